"""The legal and implementation tracks as rules: suspension, final states, parties' procedures."""

import pytest

from events.errors import ImpossibleTransition
from events.rules import evaluate
from tests.builders import fact
from tests.unit.rules_histories import (
    ENDINGS,
    branch,
    contracts,
    history,
    implementation,
    in_force,
    milestone,
    provisional,
    ratified,
    resumed,
    signed,
    sister_cities,
    suspended,
)


def legal(*facts, **fields):
    return evaluate("visa", history(*facts, **fields)).legal_status


def implemented(*facts, **fields):
    return evaluate("visa", history(*facts, **fields)).implementation_status


# -- suspension and resumption --------------------------------------------------------


@pytest.mark.parametrize("before, facts", [
    ("in force", [signed(), in_force()]),
    ("provisionally applied", [signed(), provisional()]),
])
def test_a_resumed_agreement_returns_to_where_it_was_before_the_suspension(before, facts):
    status = evaluate("visa", history(*facts, suspended(), resumed()))
    assert (status.legal_status, status.legal_since, status.legal_event_id) == (before, "2024-03-01", "legal-resumed")
    assert status.legal_before_suspension is None
    assert status.in_force_on == ("2023-11-10" if before == "in force" else None)


def test_a_suspended_agreement_says_since_when_and_waits_for_a_resumption():
    status = evaluate("visa", history(signed(), in_force(), suspended()))
    assert (status.legal_status, status.legal_since, status.legal_event_id) == ("suspended", "2024-01-01",
                                                                               "legal-suspended")
    assert status.legal_before_suspension == "in force"
    assert status.next_step() == ("resumption", None)


def test_an_agreement_can_be_suspended_and_resumed_again_and_again():
    facts = [signed(), provisional(), suspended(on="2024-01-01"), resumed(on="2024-02-01"),
             suspended(on="2024-03-01", eid="again"), resumed(on="2024-04-01", eid="back")]
    assert legal(*facts) == "provisionally applied"


@pytest.mark.parametrize("facts, was", [
    ([], "not signed"),
    ([signed()], "signed"),
    ([signed(), ratified("KZ")], "domestic procedures"),
    ([signed(), in_force(), suspended(on="2023-12-01", eid="first")], "suspended"),
])
def test_only_an_agreement_in_force_or_provisionally_applied_can_be_suspended(facts, was):
    with pytest.raises(ImpossibleTransition, match=f"it was {was}, not in force"):
        evaluate("visa", history(*facts, suspended()))


@pytest.mark.parametrize("facts", [[signed()], [signed(), in_force()], [signed(), provisional()]])
def test_an_agreement_not_suspended_cannot_be_resumed(facts):
    with pytest.raises(ImpossibleTransition, match="not suspended"):
        evaluate("visa", history(*facts, resumed()))


@pytest.mark.parametrize("start, facts", [
    ("announced", [implementation("announced", on="2023-04-01")]),
    ("committed", [signed()]),
    ("in implementation", [signed(), milestone()]),
])
def test_a_suspended_implementation_resumes_where_it_was(start, facts):
    halted = evaluate("visa", history(*facts, suspended("implementation")))
    assert (halted.implementation_status, halted.implementation_since) == ("suspended", "2024-01-01")
    assert halted.implementation_before_suspension == start
    assert halted.legal_status == legal(*facts)
    back = evaluate("visa", history(*facts, suspended("implementation"), resumed("implementation")))
    assert (back.implementation_status, back.implementation_since) == (start, "2024-03-01")
    assert back.implementation_before_suspension is None


def test_while_implementation_is_suspended_the_next_step_is_its_resumption():
    status = evaluate("visa", history(signed(), milestone(), suspended("implementation"), binding=False))
    assert status.next_step() == ("implementation resumed", None)


@pytest.mark.parametrize("facts, was", [
    ([], "no evidence"),
    ([signed(), implementation("completed")], "completed"),
    ([signed(), implementation("cancelled")], "cancelled"),
])
def test_only_an_implementation_under_way_can_be_suspended(facts, was):
    with pytest.raises(ImpossibleTransition, match=f"implementation was {was}"):
        evaluate("visa", history(*facts, suspended("implementation")))


def test_an_implementation_not_suspended_cannot_be_resumed():
    with pytest.raises(ImpossibleTransition, match="implementation was committed, not suspended"):
        evaluate("visa", history(signed(), resumed("implementation")))


def test_suspending_one_track_leaves_the_other_as_it_was():
    status = evaluate("visa", history(signed(), in_force(), milestone(), suspended("implementation")))
    assert (status.legal_status, status.implementation_status) == ("in force", "suspended")
    status = evaluate("visa", history(signed(), in_force(), milestone(), suspended("legal")))
    assert (status.legal_status, status.implementation_status) == ("suspended", "in implementation")


def test_progress_reported_during_a_suspension_does_not_lift_it():
    assert implemented(signed(), suspended("implementation"), milestone(on="2024-02-01"), binding=False) == "suspended"
    with pytest.raises(ImpossibleTransition, match="record a resumption first"):
        evaluate("visa", history(signed(), suspended("implementation"),
                                 implementation("in implementation", on="2024-02-01")))


def test_a_suspended_implementation_can_still_be_cancelled():
    status = evaluate("visa", history(signed(), suspended("implementation"),
                                      implementation("cancelled", on="2024-02-01")))
    assert (status.implementation_status, status.implementation_since) == ("cancelled", "2024-02-01")


# -- final states ------------------------------------------------------------------------


@pytest.mark.parametrize("end", sorted(set(ENDINGS) - {"lapsed"}))
@pytest.mark.parametrize("facts", [[], [signed()], [signed(), in_force()], [signed(), in_force(), suspended()]])
def test_an_agreement_can_end_from_any_state_and_then_has_no_next_step(end, facts):
    status = evaluate("visa", history(*facts, ENDINGS[end]()))
    assert (status.legal_status, status.legal_since, status.legal_event_id) == (end, "2025-01-01", end)
    assert status.next_step() == (None, None)


@pytest.mark.parametrize("facts", [[], [signed()], [signed(), ratified("KZ")]])
def test_an_agreement_lapses_only_before_it_applies(facts):
    assert legal(*facts, ENDINGS["lapsed"]()) == "lapsed"


@pytest.mark.parametrize("facts", [[signed(), provisional()], [signed(), in_force()]])
def test_an_agreement_that_applies_cannot_lapse(facts):
    with pytest.raises(ImpossibleTransition, match="it was already"):
        evaluate("visa", history(*facts, ENDINGS["lapsed"]()))


@pytest.mark.parametrize("end", sorted(ENDINGS))
@pytest.mark.parametrize("late", [
    lambda: in_force(on="2025-06-01", eid="late"),
    lambda: provisional(on="2025-06-01", eid="late"),
    lambda: ratified("KZ", on="2025-06-01"),
    lambda: ENDINGS["terminated"](on="2025-06-01").model_copy(update={"event_id": "late"}),
    lambda: suspended(on="2025-06-01"),
])
def test_nothing_happens_on_the_legal_track_after_a_final_state(end, late):
    with pytest.raises(ImpossibleTransition, match=f"(was {end} on 2025-01-01|it was {end}, not in force)"):
        evaluate("visa", history(signed(), ENDINGS[end](), late()))


@pytest.mark.parametrize("event", [milestone, contracts, branch, sister_cities,
                                   lambda **kw: implementation("completed", **kw)])
def test_after_a_cancellation_implementation_news_is_refused(event):
    with pytest.raises(ImpossibleTransition, match="implementation was cancelled on 2023-09-01"):
        evaluate("visa", history(signed(), implementation("cancelled"), event(on="2024-12-01")))


def test_a_cancelled_commitment_has_no_next_step_even_when_a_signing_follows():
    status = evaluate("visa", history(implementation("cancelled", on="2023-04-01"), signed(), binding=False))
    assert (status.legal_status, status.implementation_status) == ("signed", "cancelled")
    assert status.implementation_since == "2023-04-01"
    assert status.next_step() == (None, None)


# -- the implementation track ---------------------------------------------------------------


@pytest.mark.parametrize("facts, expected", [
    ([signed()], "committed"),
    ([implementation("announced", on="2023-04-01"), signed()], "committed"),
    ([signed(), milestone()], "in implementation"),
    ([signed(), branch()], "completed"),
    ([signed(), sister_cities()], "completed"),
    ([signed(), implementation("completed"), milestone(on="2024-01-01")], "completed"),
    ([signed(), milestone(), contracts(on="2024-01-01")], "in implementation"),
])
def test_implementation_only_moves_forward_with_the_news(facts, expected):
    assert implemented(*facts, binding=False) == expected


def test_implementation_since_is_the_day_it_last_moved_forward():
    status = evaluate("visa", history(signed(), milestone(on="2023-10-01"),
                                      milestone(on="2023-12-01", eid="again"), binding=False))
    assert status.implementation_since == "2023-10-01"


def test_an_implementation_status_may_be_repeated_but_not_lowered():
    assert implemented(signed(), implementation("committed"), binding=False) == "committed"
    with pytest.raises(ImpossibleTransition, match="implementation was already committed"):
        evaluate("visa", history(signed(), implementation("announced"), binding=False))


def test_commercial_contracts_sign_the_commitment_and_commit_it():
    status = evaluate("visa", history(contracts(), binding=False))
    assert (status.legal_status, status.signed_on, status.legal_since) == ("signed", "2023-10-01", "2023-10-01")
    assert (status.implementation_status, status.contracts_value) == ("committed", "1500000.00")


def test_commercial_contracts_after_a_signing_keep_the_signing_date():
    status = evaluate("visa", history(signed(), contracts(), binding=False))
    assert (status.legal_status, status.signed_on) == ("signed", "2023-05-17")


# -- each party's procedures ---------------------------------------------------------------------


def test_after_the_first_partys_ratification_the_agreement_is_in_domestic_procedures():
    status = evaluate("visa", history(signed(), ratified("KZ")))
    assert (status.legal_status, status.legal_since) == ("domestic procedures", "2023-09-01")
    assert status.procedures == {"KZ": "2023-09-01"}
    assert status.next_step() == ("domestic procedures: CN", None)


def test_once_every_party_has_completed_its_procedures_entry_into_force_is_next():
    status = evaluate("visa", history(signed(), ratified("KZ"), ratified("CN", on="2023-10-01")))
    assert (status.legal_status, status.legal_since) == ("domestic procedures", "2023-09-01")
    assert status.procedures == {"KZ": "2023-09-01", "CN": "2023-10-01"}
    assert status.next_step() == ("entry into force", None)


def test_the_entry_into_force_date_counts_from_the_last_day_of_the_last_notification():
    status = evaluate("visa", history(signed(), ratified("KZ", on="2023-09"), ratified("CN", on="2023-08-20"),
                                      entry_into_force={"days_after_last_notification": 30}))
    assert status.next_step() == ("entry into force", "2023-10-30")


def test_procedures_completed_during_provisional_application_are_kept_without_changing_it():
    status = evaluate("visa", history(signed(), provisional(), ratified("KZ")))
    assert (status.legal_status, status.legal_since) == ("provisionally applied", "2023-07-01")
    assert status.procedures == {"KZ": "2023-09-01"}
    assert status.next_step() == ("entry into force", None)


@pytest.mark.parametrize("facts", [[signed(), in_force()], [signed(), in_force(), suspended()]])
def test_no_procedure_follows_the_entry_into_force(facts):
    with pytest.raises(ImpossibleTransition, match="it was already"):
        evaluate("visa", history(*facts, ratified("KZ", on="2024-06-01")))


def test_the_refusal_names_the_fact_that_set_the_state():
    with pytest.raises(ImpossibleTransition, match=r"already in force on 2023-11-10 \(recorded fact 'in-force'\)"):
        evaluate("visa", history(signed(), in_force(), signed(on="2024-01-01", eid="late")))


@pytest.mark.parametrize("facts, expected", [
    ([in_force()], "in force"),
    ([signed(), ratified("KZ"), ratified("CN", on="2023-10-01"), in_force()], "in force"),
    ([signed(), provisional(), in_force()], "in force"),
    ([signed(), fact("VisaExemptionEnteredIntoForce", "visa-free", occurred_on="2023-11-10", stay_days=30)],
     "in force"),
])
def test_entry_into_force_is_possible_from_every_state_before_it(facts, expected):
    status = evaluate("visa", history(*facts))
    assert (status.legal_status, status.in_force_on, status.legal_since) == (expected, *[facts[-1].occurred_on] * 2)
