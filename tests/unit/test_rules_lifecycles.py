"""Lifecycles by kind and each party's side, as rules: what completes a commitment, what comes next."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import parse_line
from events.errors import ImpossibleTransition
from events.rules import evaluate
from tests.builders import fact, registered


def history(*facts, binding=False, **fields):
    recorded = [parse_line(registered("visa", binding=binding, **fields)), *facts]
    return [f.model_copy(update={"originator_version": n}) for n, f in enumerate(recorded, 1)]


def status(*facts, **fields):
    return evaluate("visa", history(*facts, **fields))


def opened(party=None, on="2024-01-01", eid=None):
    return fact("FacilityOpened", eid or f"opened-{party}-{on}", occurred_on=on, facility="centre", party=party)


def side(party, state, on="2024-01-01", eid=None):
    return fact("ImplementationStatusChanged", eid or f"{party}-{state}-{on}".replace(" ", "-"), occurred_on=on,
                status=state, party=party)


def news(state, on="2024-01-01", eid=None):
    return fact("ImplementationStatusChanged", eid or f"{state}-{on}".replace(" ", "-"), occurred_on=on, status=state)


def milestone(on="2024-02-01", eid=None, **fields):
    return fact("MilestoneReached", eid or f"milestone-{on}", occurred_on=on, milestone="a step", **fields)


def target(name, due, on="2024-01-01", eid=None):
    return fact("TargetSet", eid or f"target-{name}", occurred_on=on, target=name, due_on=due)


def usd(amount):
    return {"amount": amount, "currency": "USD"}


# -- reciprocal: each party opens its own -------------------------------------------------------


def test_a_reciprocal_commitment_completes_only_when_every_party_has_opened():
    one = status(opened("KZ"), lifecycle="reciprocal")
    assert (one.implementation_status, one.progress()) == ("in implementation",
                                                         {"KZ": "opened 2024-01-01", "CN": "no evidence"})
    assert one.next_step() == ("opening: CN", None)
    both = status(opened("KZ"), opened("CN", on="2024-02-01"), lifecycle="reciprocal")
    assert (both.implementation_status, both.implementation_since) == ("completed", "2024-02-01")
    assert both.next_step() == (None, None)


def test_a_reciprocal_commitment_registered_waits_for_every_party_and_shows_each_side():
    registered_only = status(lifecycle="reciprocal", target_on="2025")
    assert registered_only.progress() == {"KZ": "no evidence", "CN": "no evidence"}
    assert registered_only.next_implementation_step() == ("opening: KZ, CN", "2025")


@pytest.mark.parametrize("facts, state, sides", [
    ([side("KZ", "announced")], "announced", {"KZ": "announced 2024-01-01", "CN": "no evidence"}),
    ([side("KZ", "committed")], "committed", {"KZ": "committed 2024-01-01", "CN": "no evidence"}),
    ([side("KZ", "in implementation")], "in implementation", {"KZ": "in implementation 2024-01-01", "CN": "no evidence"}),
    ([side("KZ", "completed")], "in implementation", {"KZ": "completed 2024-01-01", "CN": "no evidence"}),
    ([side("KZ", "completed"), side("CN", "completed", on="2024-03-01")], "completed",
     {"KZ": "completed 2024-01-01", "CN": "completed 2024-03-01"}),
    ([opened("KZ"), side("CN", "completed", on="2024-03-01")], "completed",
     {"KZ": "opened 2024-01-01", "CN": "completed 2024-03-01"}),
    ([milestone(party="KZ")], "in implementation", {"KZ": "in implementation 2024-02-01", "CN": "no evidence"}),
    ([opened("KZ"), milestone(party="KZ")], "in implementation", {"KZ": "opened 2024-01-01", "CN": "no evidence"}),
])
def test_each_side_of_a_reciprocal_commitment_moves_on_its_own(facts, state, sides):
    folded = status(*facts, lifecycle="reciprocal")
    assert (folded.implementation_status, folded.progress()) == (state, sides)


def test_a_side_of_a_commitment_that_is_not_reciprocal_is_shown_but_one_side_does_not_complete_it():
    folded = status(opened("KZ"), lifecycle="facility")
    assert (folded.implementation_status, folded.progress()) == ("operating", {"KZ": "opened 2024-01-01"})
    generic = status(side("KZ", "completed"), lifecycle="generic")
    assert (generic.implementation_status, generic.progress()) == ("in implementation",
                                                                 {"KZ": "completed 2024-01-01"})


def test_a_reciprocal_opening_must_say_whose_side_opened():
    with pytest.raises(ImpossibleTransition, match="each party opens its own here: say whose side opened"):
        status(opened(None), lifecycle="reciprocal")


def test_one_side_cannot_be_cancelled_alone():
    with pytest.raises(ImpossibleTransition, match="one side cannot be cancelled alone"):
        status(side("KZ", "cancelled"), lifecycle="reciprocal")


@pytest.mark.parametrize("late", [opened("KZ", on="2024-06-01"), side("CN", "committed", on="2024-06-01")])
def test_after_a_cancellation_no_side_moves(late):
    with pytest.raises(ImpossibleTransition, match="implementation was cancelled on 2024-03-01"):
        status(news("cancelled", on="2024-03-01"), late, lifecycle="reciprocal")


def test_a_side_of_a_country_that_is_no_party_is_refused():
    with pytest.raises(ImpossibleTransition, match=r"RU is not a party \(CN, KZ\)"):
        status(opened("RU"), lifecycle="reciprocal")


# -- facility, tie, generic: one opening completes --------------------------------------------------


@pytest.mark.parametrize("lifecycle, opening, state", [
    ("facility", opened(), "operating"),
    ("tie", fact("SisterCityTieEstablished", "tie", occurred_on="2024-01-01", cities=[
        {"country": "KZ", "institution": "Almaty"}, {"country": "CN", "institution": "Xian"}]), "active"),
    ("generic", opened(), "completed"),
    ("declaration", opened(), "in implementation"),
    ("plan", opened(), "in implementation"),
])
def test_an_opening_brings_each_lifecycle_to_its_own_state(lifecycle, opening, state):
    folded = status(opening, lifecycle=lifecycle)
    assert (folded.implementation_status, folded.implementation_since) == (state, "2024-01-01")


@pytest.mark.parametrize("lifecycle, facts, expected", [
    ("facility", [], ("opening", "2026")),
    ("tie", [], ("establishment", "2026")),
    ("facility", [opened()], (None, None)),
    ("generic", [news("announced")], ("implementation", "2026")),
    ("generic", [news("in implementation")], ("completion", "2026")),
    ("generic", [news("completed")], (None, None)),
    ("contract", [news("committed")], ("delivery", "2026")),
    ("contract", [news("in implementation")], ("delivery", "2026")),
    ("contract", [news("announced")], ("implementation", "2026")),
    ("declaration", [], (None, None)),
    ("plan", [], ("implementation", "2026")),
    ("regime", [], (None, None)),
])
def test_the_next_implementation_step_follows_the_lifecycle(lifecycle, facts, expected):
    assert status(*facts, lifecycle=lifecycle, target_on="2026").next_implementation_step() == expected


# -- regime: in effect while its instrument applies -----------------------------------------------


def legal(name, on, eid=None, **fields):
    return fact(name, eid or f"{name}-{on}", occurred_on=on, **fields)


SIGNED = legal("DocumentSigned", "2023-05-17", instrument="agreement")


@pytest.mark.parametrize("facts, state", [
    ([SIGNED], "committed"),
    ([SIGNED, legal("EnteredIntoForce", "2023-11-10")], "in effect"),
    ([SIGNED, legal("ProvisionallyApplied", "2023-07-01")], "in effect"),
    ([SIGNED, legal("EnteredIntoForce", "2023-11-10"), legal("Suspended", "2024-01-01", track="legal")],
     "not in effect"),
    ([SIGNED, legal("EnteredIntoForce", "2023-11-10"), legal("Suspended", "2024-01-01", track="legal"),
      legal("Resumed", "2024-03-01", track="legal")], "in effect"),
    ([SIGNED, legal("EnteredIntoForce", "2023-11-10"), legal("Terminated", "2025-01-01")], "not in effect"),
    ([SIGNED, legal("EnteredIntoForce", "2023-11-10"), news("cancelled", on="2024-01-01")], "cancelled"),
    ([SIGNED, legal("Suspended", "2023-06-01", track="implementation"), legal("EnteredIntoForce", "2023-11-10")],
     "suspended"),
])
def test_a_regime_is_in_effect_exactly_while_its_instrument_applies(facts, state):
    assert status(*facts, binding=True, lifecycle="regime").implementation_status == state


def test_a_regime_out_of_effect_refuses_implementation_news():
    facts = [SIGNED, legal("EnteredIntoForce", "2023-11-10"), legal("Terminated", "2025-01-01"),
             news("in implementation", on="2025-02-01")]
    with pytest.raises(ImpossibleTransition, match="a regime's implementation follows its legal track"):
        status(*facts, binding=True, lifecycle="regime")


def test_a_regime_in_effect_says_since_when():
    folded = status(SIGNED, legal("EnteredIntoForce", "2023-11-10"), binding=True, lifecycle="regime")
    assert folded.implementation_since == "2023-11-10"


# -- declaration: complete by the deliverables it names ---------------------------------------------


def test_a_declaration_completes_when_every_deliverable_it_names_is_met():
    fields = {"lifecycle": "declaration", "deliverables": ["a study", "a forum"], "target_on": "2026"}
    first = status(milestone(meets="a study"), **fields)
    assert (first.implementation_status, first.met) == ("in implementation", {"a study": "2024-02-01"})
    assert first.next_step() == ("deliverable: a forum", "2026")
    both = status(milestone(meets="a study"), milestone(on="2024-04-01", meets="a forum"), **fields)
    assert (both.implementation_status, both.implementation_since) == ("completed", "2024-04-01")
    assert both.next_step() == (None, None)


def test_a_deliverable_met_twice_keeps_the_day_it_was_first_met():
    fields = {"lifecycle": "declaration", "deliverables": ["a study", "a forum"]}
    folded = status(milestone(meets="a study"), milestone(on="2024-04-01", meets="a study"), **fields)
    assert folded.met == {"a study": "2024-02-01"}


@pytest.mark.parametrize("fields, meets, message", [
    ({"lifecycle": "declaration", "deliverables": ["a study"]}, "a forum",
     "'a forum' is no deliverable (they are: a study)"),
    ({"lifecycle": "plan"}, "a forum", "'a forum' is no target set by then (they are: none)"),
    ({"lifecycle": "declaration"}, "a forum", "a declaration has no deliverables or targets to meet"),
    ({"lifecycle": "generic"}, "a forum", "a generic has no deliverables or targets to meet"),
])
def test_a_milestone_meets_only_what_was_named(fields, meets, message):
    with pytest.raises(ImpossibleTransition, match=re.escape(message)):
        status(milestone(meets=meets), **fields)


# -- plan: dated targets --------------------------------------------------------------------------


def test_a_plan_waits_for_its_earliest_unmet_target():
    targets = [target("later", "2027"), target("sooner", "2026-06", eid="t2")]
    assert status(*targets, lifecycle="plan").next_implementation_step() == ("target: sooner", "2026-06")
    met = status(*targets, milestone(meets="sooner"), lifecycle="plan")
    assert met.next_step() == ("target: later", "2027")
    assert met.implementation_status == "in implementation"
    done = status(*targets, milestone(meets="sooner"), milestone(on="2024-03-01", meets="later"), lifecycle="plan")
    assert done.next_step() == (None, None)


def test_targets_belong_to_plans():
    with pytest.raises(ImpossibleTransition, match="targets belong to plans, and this commitment is a generic"):
        status(target("x", "2026"), lifecycle="generic")


# -- contract: delivers its value -------------------------------------------------------------------


@pytest.mark.parametrize("deliveries, state, delivered", [
    ([usd("400")], "in implementation", "400"),
    ([usd("400"), usd("600")], "completed", "1000"),
    ([usd("1200")], "completed", "1200"),
    ([usd("999.99")], "in implementation", "999.99"),
    ([{"amount": "5000", "currency": "CNY"}], "in implementation", None),
])
def test_a_contract_is_completed_when_its_value_is_delivered_in_its_currency(deliveries, state, delivered):
    facts = [milestone(on=f"2024-0{n}-01", value=value) for n, value in enumerate(deliveries, 1)]
    folded = status(*facts, lifecycle="contract", value=usd("1000"))
    assert (folded.implementation_status, folded.delivered) == (state, delivered)


def test_a_delivery_of_a_contract_with_no_value_counts_nothing():
    folded = status(milestone(value=usd("400")), lifecycle="contract")
    assert (folded.implementation_status, folded.delivered) == ("in implementation", None)


def test_a_delivery_outside_a_contract_counts_nothing():
    folded = status(milestone(value=usd("4000")), lifecycle="generic", value=usd("1000"))
    assert (folded.implementation_status, folded.delivered) == ("in implementation", None)


def test_commercial_contracts_give_the_commitment_its_value():
    folded = status(fact("CommercialContractsSigned", "deal", occurred_on="2024-01-01", value="1500000.00",
                         currency="EUR"), lifecycle="contract")
    assert (folded.contracts_value, folded.value["currency"], folded.value["amount"]) == ("1500000.00", "EUR",
                                                                                          "1500000.00")


def test_the_registered_value_is_kept_when_no_contract_gives_one():
    assert status(lifecycle="contract", value=usd("1000")).value == {"amount": "1000", "currency": "USD",
                                                                     "approximate": False}


# -- properties: each side only moves on; completion needs every side ------------------------------

SIDE_RANK = {"announced": 1, "committed": 2, "in implementation": 3, "milestone": 3, "opened": 4, "completed": 4}
SIDE_NEWS = st.lists(st.tuples(st.sampled_from(["KZ", "CN"]),
                               st.sampled_from(["opened", "announced", "committed", "in implementation",
                                                "completed", "milestone"])), max_size=8)


def side_fact(party, what, n):
    on = f"2024-{1 + n:02d}-01"
    if what == "opened":
        return opened(party, on=on, eid=f"e{n}")
    if what == "milestone":
        return milestone(on=on, eid=f"e{n}", party=party)
    return side(party, what, on=on, eid=f"e{n}")


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(SIDE_NEWS)
def test_a_reciprocal_commitment_is_completed_only_when_every_party_has_opened_or_completed(news_of_sides):
    facts, was_done, reached = [], set(), {}
    for n, (party, what) in enumerate(news_of_sides):
        if SIDE_RANK[what] < reached.get(party, 0):
            continue  # news that lowers a side: see the strict xfail below
        reached[party] = SIDE_RANK[what]
        facts.append(side_fact(party, what, n))
        try:
            folded = status(*facts, lifecycle="reciprocal")
        except ImpossibleTransition:
            facts.pop()
            continue
        done = {c for c, p in folded.progress().items() if p.startswith(("opened", "completed"))}
        assert was_done <= done  # a side that has opened or completed stays so
        was_done = done
        assert (folded.implementation_status == "completed") is (done == {"KZ", "CN"})


@pytest.mark.xfail(strict=True, reason="known gap: a side's later, lower news replaces its progress (found by the"
                                       " property above; changing it changes folded statuses: RULES_VERSION)")
def test_a_side_that_has_opened_does_not_go_back_with_older_news():
    folded = status(opened("KZ"), side("KZ", "announced", on="2024-02-01"), lifecycle="reciprocal")
    assert folded.progress()["KZ"] == "opened 2024-01-01"


@pytest.mark.parametrize("lifecycle", ["facility", "declaration", "plan"])
def test_after_a_cancellation_an_opening_is_refused_whatever_the_lifecycle(lifecycle):
    with pytest.raises(ImpossibleTransition, match="implementation was cancelled on 2024-01-01"):
        status(news("cancelled"), opened(on="2024-02-01"), lifecycle=lifecycle)


def test_a_plans_targets_are_ordered_by_the_first_day_they_may_be_due():
    targets = [target("this year", "2026", eid="t1"), target("by june", "2026-06-30", eid="t2")]
    assert status(*targets, lifecycle="plan").next_implementation_step() == ("target: this year", "2026")


def test_commitments_it_relates_to_are_kept():
    related = fact("CommitmentsRelated", "rel", occurred_on="2024-01-01", relation="implements",
                   other_commitment_id="road")
    assert status(related).related_commitments == [{"relation": "implements", "commitment_id": "road"}]
