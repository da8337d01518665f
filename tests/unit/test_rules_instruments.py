"""Chains of instruments as rules: which instrument carries the commitment, what each relation
does, each party's steps, and that a superseded or ended instrument is never the current one."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import parse_line
from events.errors import ImpossibleTransition
from events.rules import LEGAL_FINAL, Status, evaluate
from tests.builders import fact, registered

PROTOCOL = "protocol-2024"


def history(*facts, binding=True, **fields):
    recorded = [parse_line(registered("road", binding=binding, **fields)), *facts]
    return [f.model_copy(update={"originator_version": n}) for n, f in enumerate(recorded, 1)]


def road(type_, eid, on, **fields):
    return fact(type_, eid, cid="road", occurred_on=on, **fields)


def signing(name=None, on="2023-05-17", instrument="agreement", eid=None, **fields):
    return road("DocumentSigned", eid or f"signed-{name}", on, instrument=instrument, instrument_id=name, **fields)


def related(this, relation, other, on="2024-07-03", eid=None):
    return road("InstrumentsRelated", eid or f"{this}-{relation}-{other}".replace(" ", "-"), on, instrument_id=this,
                relation=relation, other_instrument_id=other)


def in_force(name=None, on="2023-11-10", eid=None):
    return road("EnteredIntoForce", eid or f"in-force-{name}", on, instrument_id=name)


def step(party, what, on="2024-10-01", name=None, eid=None):
    return road("DomesticProcedureStepTaken", eid or f"{party}-{what}-{on}".replace(" ", "-"), on, party=party,
                step=what, instrument_id=name)


def status(*facts, **fields):
    return evaluate("road", history(*facts, **fields))


AGREEMENT = [signing(), in_force()]
SIGNED_PROTOCOL = signing(PROTOCOL, on="2024-07-03", instrument="protocol")


# -- what each relation does -------------------------------------------------------------------------


@pytest.mark.parametrize("relation, current, agreement_state, attached, carried", [
    ("amends", "road", "in force", True, False),
    ("implements", "road", "in force", True, False),
    ("terminates", "road", "terminated", True, False),
    ("follows up", PROTOCOL, "in force", False, True),
    ("supersedes", PROTOCOL, "superseded", False, True),
])
def test_each_relation_of_a_later_instrument_to_the_agreement_does_what_it_says(relation, current, agreement_state,
                                                                               attached, carried):
    folded = status(*AGREEMENT, SIGNED_PROTOCOL, related(PROTOCOL, relation, "road"))
    agreement, later = folded.instruments
    assert (agreement["legal_status"], later["attached"], agreement["carried_forward"]) == (agreement_state, attached,
                                                                                             carried)
    assert later["relations"] == [[relation, "road"]]
    assert folded.instrument_id == current
    if agreement_state in LEGAL_FINAL:
        assert (agreement["legal_since"], agreement["legal_event_id"]) == ("2024-07-03", f"{PROTOCOL}-{relation}-road")


def test_a_superseded_agreement_leaves_the_commitment_to_its_successor():
    folded = status(*AGREEMENT, SIGNED_PROTOCOL, related(PROTOCOL, "supersedes", "road"))
    assert (folded.legal_status, folded.signed_on, folded.in_force_on) == ("signed", "2024-07-03", None)
    assert folded.next_step() == ("domestic procedures: CN, KZ", None)


def test_when_every_instrument_has_ended_the_latest_signed_gives_the_status():
    folded = status(*AGREEMENT, SIGNED_PROTOCOL, related(PROTOCOL, "supersedes", "road"),
                    road("Terminated", "end", "2025-01-01", instrument_id=PROTOCOL))
    assert (folded.instrument_id, folded.legal_status) == (PROTOCOL, "terminated")


@pytest.mark.parametrize("relation", ["supersedes", "terminates"])
def test_an_instrument_already_ended_cannot_be_ended_again(relation):
    facts = [*AGREEMENT, road("Expired", "expired", "2024-01-01"), SIGNED_PROTOCOL, related(PROTOCOL, relation, "road")]
    with pytest.raises(ImpossibleTransition, match="road was expired on 2024-01-01"):
        status(*facts)


def test_an_instrument_cannot_relate_to_itself():
    with pytest.raises(ImpossibleTransition, match="an instrument cannot relate to itself"):
        status(*AGREEMENT, SIGNED_PROTOCOL, related(PROTOCOL, "amends", PROTOCOL))


@pytest.mark.parametrize("facts, this, other, missing, hint", [
    ([*AGREEMENT], PROTOCOL, "road", PROTOCOL, True),
    ([*AGREEMENT, SIGNED_PROTOCOL], PROTOCOL, "memo", "memo", True),
    ([signing("first"), SIGNED_PROTOCOL], PROTOCOL, "road", "road", False),
])
def test_a_relation_names_only_instruments_signed_by_then(facts, this, other, missing, hint):
    with pytest.raises(ImpossibleTransition) as refused:
        status(*facts, related(this, "amends", other))
    message = str(refused.value)
    assert f"no instrument {missing!r} was signed by then: record its signing first" in message
    assert ("the first instrument, whose signing names none, goes by 'road'" in message) is hint


# -- which instrument a fact is about ------------------------------------------------------------------


def test_the_first_signing_naming_an_instrument_names_the_first_one():
    folded = status(signing("first"), in_force())
    assert (folded.instrument_id, len(folded.instruments), folded.legal_status) == ("first", 1, "in force")


def test_a_fact_naming_an_instrument_not_signed_is_refused_and_says_what_to_record():
    with pytest.raises(ImpossibleTransition, match=re.escape(
            "no instrument 'later' was signed by then: record its signing first (DocumentSigned with instrument_id"
            " later)")):
        status(*AGREEMENT, in_force("later", on="2024-01-01"))


def test_a_fact_naming_the_commitment_is_about_the_first_instrument_when_its_signing_named_none():
    folded = status(*AGREEMENT, SIGNED_PROTOCOL, road("Suspended", "s", "2024-09-01", track="legal",
                                                      instrument_id="road"))
    assert [i["legal_status"] for i in folded.instruments] == ["suspended", "signed"]


def test_a_second_signing_of_the_same_instrument_is_refused():
    with pytest.raises(ImpossibleTransition, match=r"it was already signed on 2023-05-17 \(recorded fact 'signed-None'\)"
                                                   r".*another instrument carrying it is recorded with its own"):
        status(signing(), signing(on="2023-06-01", eid="again"))


def test_a_refusal_names_the_instrument_once_there_are_several():
    with pytest.raises(ImpossibleTransition, match=f"instrument {PROTOCOL} was already signed on 2024-07-03"):
        status(*AGREEMENT, SIGNED_PROTOCOL, signing(PROTOCOL, on="2024-08-01", instrument="protocol", eid="again"))
    with pytest.raises(ImpossibleTransition, match="instrument road was terminated on 2024-01-01"):
        status(*AGREEMENT, road("Terminated", "end", "2024-01-01"), SIGNED_PROTOCOL,
               in_force("road", on="2024-09-01"))


# -- each party's steps ----------------------------------------------------------------------------


def test_a_party_is_done_only_with_a_step_that_completes_its_procedure():
    first = status(signing(), step("KZ", "lower chamber approved"))
    assert (first.legal_status, first.procedures) == ("domestic procedures", {})
    assert first.next_step() == ("domestic procedures: CN, KZ (lower chamber approved)", None)
    done = status(signing(), step("KZ", "lower chamber approved"), step("KZ", "law signed", on="2024-11-01"))
    assert done.procedures == {"KZ": "2024-11-01"}
    assert done.next_step() == ("domestic procedures: CN", None)


@pytest.mark.parametrize("rule, steps, done", [
    (None, ["decree"], {"KZ"}),
    (None, ["published"], set()),
    ({"completed_by": ["published"]}, ["published"], {"KZ"}),
    ({"completed_by": ["published"]}, ["decree"], set()),
])
def test_the_registered_rule_names_the_steps_that_complete_a_party(rule, steps, done):
    facts = [signing(), *(step("KZ", s, on=f"2024-0{n}-01") for n, s in enumerate(steps, 1))]
    assert set(status(*facts, entry_into_force=rule).procedures) == done


def test_a_later_instrument_does_not_take_the_registered_rule():
    rule = {"completed_by": ["published"], "days_after_last_notification": 10}
    folded = status(*AGREEMENT, SIGNED_PROTOCOL, step("KZ", "published", name=PROTOCOL), entry_into_force=rule)
    assert folded.procedures == {} and folded.days_after_last_notification is None


def test_a_step_on_a_non_binding_instrument_is_refused():
    memo = signing(instrument="memorandum", binding=False)
    with pytest.raises(ImpossibleTransition, match="a non-binding instrument has no domestic procedure step"):
        status(memo, step("KZ", "decree"))


# -- properties: a superseded or ended instrument is never current -----------------------------------

NAMES = ["road", "p1", "p2"]
RELATIONS = ["follows up", "implements", "amends", "supersedes", "terminates"]
ACTS = st.lists(st.one_of(
    st.tuples(st.just("sign"), st.sampled_from(NAMES[1:])),
    st.tuples(st.just("relate"), st.sampled_from(NAMES), st.sampled_from(RELATIONS), st.sampled_from(NAMES)),
    st.tuples(st.just("force"), st.sampled_from(NAMES)),
    st.tuples(st.just("end"), st.sampled_from(NAMES)),
), max_size=8)


def folded(acts):
    facts = [signing()]
    for n, act in enumerate(acts):
        on = f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}"
        match act:
            case ("sign", name):
                facts.append(signing(name, on=on, instrument="protocol", eid=f"e{n}"))
            case ("relate", this, relation, other):
                facts.append(related(this, relation, other, on=on, eid=f"e{n}"))
            case ("force", name):
                facts.append(in_force(name, on=on, eid=f"e{n}"))
            case ("end", name):
                facts.append(road("Terminated", f"e{n}", on, instrument_id=name))
    kept: list = []
    for f in facts:
        try:
            evaluate("road", history(*kept, f))
        except ImpossibleTransition:
            continue
        kept.append(f)
    return evaluate("road", history(*kept))


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(ACTS)
def test_a_superseded_or_ended_instrument_is_never_current_while_another_has_not_ended(acts):
    state: Status = folded(acts)
    current = state.current_instrument()
    live = [i for i in state.instruments if i["legal_status"] not in LEGAL_FINAL]
    if live:
        assert current["legal_status"] not in LEGAL_FINAL
    carrying = [i for i in live if not i["attached"] and not i["carried_forward"]]
    if carrying:
        assert current in carrying
        assert current["signed_order"] == max(i["signed_order"] for i in carrying)
    assert state.legal_status == current["legal_status"]
    assert state.instrument_id == (current["id"] or "road")


def test_a_refusal_to_suspend_or_resume_names_the_instrument_once_there_are_several():
    with pytest.raises(ImpossibleTransition, match=f"instrument {PROTOCOL} was signed, not in force"):
        status(*AGREEMENT, SIGNED_PROTOCOL, road("Suspended", "s", "2024-09-01", track="legal", instrument_id=PROTOCOL))
    with pytest.raises(ImpossibleTransition, match=f"instrument {PROTOCOL} was signed, not suspended"):
        status(*AGREEMENT, SIGNED_PROTOCOL, road("Resumed", "r", "2024-09-01", track="legal", instrument_id=PROTOCOL))


def test_a_repeated_entry_into_force_is_refused_without_the_hint_for_signings():
    with pytest.raises(ImpossibleTransition) as refused:
        status(*AGREEMENT, in_force(on="2024-01-01", eid="again"))
    assert str(refused.value).endswith("it was already in force on 2023-11-10 (recorded fact 'in-force-None');"
                                       " a source that reports it otherwise is a ClaimConflicted on 'in-force-None'")


def test_an_entry_into_force_with_no_signing_recorded_leaves_the_signing_date_unknown():
    folded = status(in_force())
    assert (folded.legal_status, folded.signed_on, folded.instruments[0]["signed_order"]) == ("in force", None, 0)


def test_an_instrument_nothing_has_signed_yet_has_every_field_empty():
    folded = status(road("DomesticProcedureCompleted", "kz", "2023-06-01", party="KZ", procedure="ratification"))
    assert folded.instruments == [{
        "id": None, "order": 0, "type": None, "place": None, "signed_on": None, "signed_order": 0, "binding": None,
        "rule": None, "legal_status": "domestic procedures", "legal_since": "2023-06-01", "legal_event_id": "kz",
        "before_suspension": None, "in_force_on": None, "procedures": {"KZ": "2023-06-01"}, "steps": {},
        "relations": [], "attached": False, "carried_forward": False}]


def test_a_later_instrument_of_a_type_with_no_known_binding_binds_as_the_commitment_was_registered():
    other = signing("p", on="2024-07-03", instrument="other")
    assert status(*AGREEMENT, other).binding is True
    assert status(*AGREEMENT, other, binding=False).binding is False


def test_a_commitment_with_no_legal_fact_has_no_current_instrument_and_keeps_its_registered_rule():
    folded = status(entry_into_force={"days_after_last_notification": 30})
    assert (folded.current_instrument(), folded.days_after_last_notification) == (None, 30)
