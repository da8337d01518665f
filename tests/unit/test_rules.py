"""The rules of the legal and implementation tracks, folded in world order."""

from datetime import date, datetime, timezone

import pytest

from events import parse_line
from events.errors import ImpossibleTransition
from events.rules import evaluate
from projections.views import board_row
from tests.builders import fact, registered


def history(*facts, binding=True, **fields):
    numbered = []
    for n, f in enumerate([parse_line(registered("visa", binding=binding, **fields)), *facts], 1):
        numbered.append(f.model_copy(update={"originator_version": n}))
    return numbered


def signed(on="2023-05-17"):
    return fact("DocumentSigned", "signed", occurred_on=on, instrument="agreement")


def in_force(on="2023-11-10"):
    return fact("EnteredIntoForce", "in-force", occurred_on=on)


def test_a_signed_agreement_waits_for_both_parties_domestic_procedures():
    status = evaluate("visa", history(signed()))
    assert (status.legal_status, status.implementation_status) == ("signed", "committed")
    assert status.next_step() == ("domestic procedures: CN, KZ", None)


def test_learning_of_the_signing_after_the_entry_into_force_still_reads_in_world_order():
    status = evaluate("visa", history(in_force(), signed()))
    assert status.legal_status == "in force"
    assert status.signed_on == "2023-05-17"
    assert status.last_change == "entered into force"


def test_a_signing_dated_after_the_entry_into_force_is_impossible():
    with pytest.raises(ImpossibleTransition, match="already in force on 2023-11-10"):
        evaluate("visa", history(in_force(), signed("2024-01-01")))


def test_resuming_what_was_never_suspended_is_impossible():
    resumed = fact("Resumed", "resumed", occurred_on="2024-01-01", track="legal")
    with pytest.raises(ImpossibleTransition, match="not suspended"):
        evaluate("visa", history(signed(), in_force(), resumed))


def test_suspension_and_resumption_return_the_agreement_to_force():
    suspended = fact("Suspended", "suspended", occurred_on="2024-01-01", track="legal")
    resumed = fact("Resumed", "resumed", occurred_on="2024-03-01", track="legal")
    assert evaluate("visa", history(signed(), in_force(), suspended)).legal_status == "suspended"
    assert evaluate("visa", history(signed(), in_force(), suspended, resumed)).legal_status == "in force"


def test_nothing_follows_a_termination_on_the_legal_track():
    terminated = fact("Terminated", "terminated", occurred_on="2025-01-01")
    late = fact("EnteredIntoForce", "late", occurred_on="2025-06-01")
    with pytest.raises(ImpossibleTransition, match="was terminated on 2025-01-01"):
        evaluate("visa", history(signed(), terminated, late))


def test_a_memorandum_has_no_ratification_step():
    ratified = fact("DomesticProcedureCompleted", "ratified", occurred_on="2023-09-01",
                    party="KZ", procedure="ratification")
    with pytest.raises(ImpossibleTransition, match="non-binding"):
        evaluate("visa", history(signed(), ratified, binding=False))


def test_only_a_party_completes_domestic_procedures():
    ratified = fact("DomesticProcedureCompleted", "ratified", occurred_on="2023-09-01",
                    party="RU", procedure="ratification")
    with pytest.raises(ImpossibleTransition, match="RU is not a party"):
        evaluate("visa", history(signed(), ratified))


def test_the_entry_into_force_rule_gives_a_date_that_becomes_overdue():
    kz = fact("DomesticProcedureCompleted", "kz-notified", occurred_on="2023-09-01", party="KZ", procedure="notification")
    cn = fact("DomesticProcedureCompleted", "cn-notified", occurred_on="2023-10-11", party="CN", procedure="notification")
    status = evaluate("visa", history(signed(), kz, cn, entry_into_force={"days_after_last_notification": 30}))
    assert status.next_step() == ("entry into force", "2023-11-10")
    assert board_row(status, date(2023, 11, 10))["overdue"] is False
    assert board_row(status, date(2023, 11, 11))["overdue"] is True


def test_a_promised_date_passed_without_completion_is_overdue():
    status = evaluate("visa", history(signed(), binding=False, target_on="2024"))
    assert status.next_step() == ("implementation", "2024")
    assert board_row(status, date(2024, 12, 31))["overdue"] is False
    assert board_row(status, date(2025, 1, 1))["overdue"] is True


def test_implementation_does_not_go_backwards_and_cancellation_is_final():
    started = fact("ImplementationStatusChanged", "started", occurred_on="2023-09-01", status="in implementation")
    back = fact("ImplementationStatusChanged", "back", occurred_on="2023-10-01", status="committed")
    with pytest.raises(ImpossibleTransition, match="already in implementation"):
        evaluate("visa", history(signed(), started, back))
    cancelled = fact("ImplementationStatusChanged", "cancelled", occurred_on="2023-10-01", status="cancelled")
    milestone = fact("MilestoneReached", "milestone", occurred_on="2023-11-01", milestone="first bus")
    with pytest.raises(ImpossibleTransition, match="cancelled on 2023-10-01"):
        evaluate("visa", history(signed(), cancelled, milestone))


def test_an_opened_university_branch_completes_the_commitment():
    opened = fact("UniversityBranchOpened", "opened", occurred_on="2024-09-01",
                  university="Northwestern Polytechnical University", city="Almaty")
    status = evaluate("visa", history(signed(), opened, binding=False))
    assert status.implementation_status == "completed"
    assert status.next_step() == (None, None)


def test_a_retracted_fact_no_longer_counts_but_a_corrected_one_counts_with_its_new_date():
    retracted = parse_line({"type": "EventRetracted", "event_id": "oops", "occurred_on": "2023-12-01",
                            "retracts": "in-force", "reason": "wrong report"})
    status = evaluate("visa", history(signed(), in_force(), retracted))
    assert status.legal_status == "signed"
    corrected = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                            "corrects": "in-force", "reason": "it was the 12th", "changes": {"occurred_on": "2023-11-12"}})
    assert evaluate("visa", history(signed(), in_force(), corrected)).in_force_on == "2023-11-12"


def test_as_of_a_world_date_counts_only_what_had_happened():
    status = evaluate("visa", history(signed(), in_force()), as_of=date(2023, 6, 1))
    assert status.legal_status == "signed"


def test_a_fact_known_only_to_the_month_counts_once_the_month_is_over():
    month = fact("EnteredIntoForce", "in-force", occurred_on="2023-11")
    assert evaluate("visa", history(signed(), month), as_of=date(2023, 11, 15)).legal_status == "signed"
    assert evaluate("visa", history(signed(), month), as_of=date(2023, 11, 30)).legal_status == "in force"


def test_known_at_counts_only_what_had_been_recorded_by_then():
    early = datetime(2023, 6, 1, tzinfo=timezone.utc)
    late = datetime(2024, 1, 1, tzinfo=timezone.utc)
    facts = history(signed().model_copy(update={"recorded_at": early}),
                    in_force().model_copy(update={"recorded_at": late}))
    facts[0] = facts[0].model_copy(update={"recorded_at": early})
    assert evaluate("visa", facts, known_at=datetime(2023, 12, 1, tzinfo=timezone.utc)).legal_status == "signed"
    assert evaluate("visa", facts).legal_status == "in force"


def test_a_withdrawal_by_a_country_that_is_no_party_still_folds_as_before():
    from events import parse_line
    from events.rules import evaluate
    from tests.builders import fact, registered

    status = evaluate("visa", [parse_line(registered("visa")), fact("DocumentSigned", "s", instrument="agreement"),
                               fact("Withdrawn", "w", occurred_on="2024", party="RU")])
    assert status.legal_status == "withdrawn"


def test_a_milestone_of_a_country_that_is_no_party_is_refused():
    import pytest

    from events import parse_line
    from events.errors import ImpossibleTransition
    from events.rules import evaluate
    from tests.builders import fact, registered

    with pytest.raises(ImpossibleTransition, match="RU is not a party"):
        evaluate("visa", [parse_line(registered("visa")),
                          fact("MilestoneReached", "m", occurred_on="2024", milestone="x", party="RU")])


def test_an_unsourced_signing_recorded_again_with_a_source_is_sourced_and_counted_once():
    unsourced = parse_line({"type": "DocumentSigned", "event_id": "signed", "commitment_id": "visa",
                            "occurred_on": "2023-05-17", "instrument": "agreement"})
    again = fact("DocumentSigned", "signed-again", instrument="agreement", note="the Akorda's report",
                 source={"title": "Akorda press service", "kind": "government"})
    status = evaluate("visa", history(unsourced, again))
    assert (status.events, status.unsourced, status.legal_event_id) == (2, 0, "signed")
    assert (len(status.cited), sum(status.cited.values())) == (2, 1)
    incremental = evaluate("visa", history(unsourced))
    incremental.apply(again.model_copy(update={"originator_version": 3}))
    assert incremental == status
