"""Uncertain world dates and expected facts, told with the Xian documents of 17 May 2023:
what the board, the history and --as-of say when a date is known only roughly, or not at
all, and what happens to a fact dated after the moment it is recorded."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from events import parse_line
from events.errors import NotHappenedYet
from projections import replay
from tests.builders import fact, line, registered

VISA = "visa"


def signed_by_both(tracker, *, ratified_kz: str = "2023-10-25") -> None:
    """The visa agreement registered and signed in Xian, ratified by KZ (on ``ratified_kz``)
    and by CN by the law of 1 March 2024."""
    tracker.record_many([
        parse_line(registered(VISA)),
        fact("DocumentSigned", "visa-signed", instrument="agreement", place="Xian"),
        fact("DomesticProcedureCompleted", "cn-law", occurred_on="2024-03-01", party="CN", procedure="ratification"),
        fact("DomesticProcedureCompleted", "kz-ratified", occurred_on=ratified_kz, party="KZ", procedure="ratification"),
    ])


def shown(tracker, **replayed) -> dict:
    """The visa agreement's board row, replayed (as `tracker status --as-of` does: judged on that day)."""
    [row] = replay.board((f for _, f in tracker.facts()), replayed.get("as_of") or date.today(), **replayed)
    return row


def test_a_ratification_known_only_to_precede_the_other_partys_law_keeps_the_signing_possible(tracker):
    signed_by_both(tracker, ratified_kz="../2024-03-01")
    tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2024-04-01"))
    status = tracker.status(VISA)
    assert (status.legal_status, status.procedures) == ("in force", {"CN": "2024-03-01", "KZ": "../2024-03-01"})
    history = [row["event_id"] for row in replay.history(VISA, tracker.history(VISA))[0]]
    assert history == ["visa-registered", "visa-signed", "cn-law", "kz-ratified", "in-force"]


def test_a_ratification_of_unknown_date_is_placed_after_the_signing_and_before_the_entry_into_force(tracker):
    tracker.record_many([
        parse_line(registered(VISA)),
        fact("DocumentSigned", "visa-signed", instrument="agreement", place="Xian"),
        fact("EnteredIntoForce", "in-force", occurred_on="2024-04-01"),
    ])
    tracker.record(fact("DomesticProcedureCompleted", "kz-ratified", occurred_on="XXXX", party="KZ",
                        procedure="ratification"))
    tracker.record(fact("DomesticProcedureCompleted", "cn-law", occurred_on="2024-03-01", party="CN",
                        procedure="ratification"))
    status = tracker.status(VISA)
    assert (status.legal_status, sorted(status.procedures)) == ("in force", ["CN", "KZ"])
    assert shown(tracker)["legal_status"] == "in force"
    history = [(r["occurred_on"], r["event_id"]) for r in replay.history(VISA, tracker.history(VISA))[0]]
    assert history[-1] == ("XXXX", "kz-ratified")  # listed last: its date is not known


def test_an_entry_into_force_known_to_a_range_is_possibly_in_force_inside_it(tracker):
    signed_by_both(tracker)
    tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2024-06/2024-08"))
    assert tracker.status(VISA, as_of=date(2024, 7, 1)).legal_status == "domestic procedures"
    during = shown(tracker, as_of=date(2024, 7, 1))
    assert (during["legal_status"], during["possibly"]) == (
        "domestic procedures", "possibly: entered into force (2024-06/2024-08)")
    before = shown(tracker, as_of=date(2024, 5, 31))
    assert (before["legal_status"], before["possibly"]) == ("domestic procedures", None)
    after = shown(tracker, as_of=date(2024, 9, 1))
    assert (after["legal_status"], after["possibly"]) == ("in force", None)


def test_a_fact_known_only_to_have_happened_after_a_date_is_certain_once_recorded(tracker):
    signed_by_both(tracker)
    tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2024-06-01/.."))
    assert shown(tracker, as_of=date(2025, 1, 1))["possibly"] == "possibly: entered into force (2024-06-01/..)"
    assert shown(tracker, as_of=date.today())["legal_status"] == "in force"
    assert tracker.status(VISA).legal_status == "in force"


def test_a_fact_dated_after_it_is_recorded_is_refused_with_how_to_record_it_as_expected(tracker):
    signed_by_both(tracker)
    with pytest.raises(NotHappenedYet) as refused:
        tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2099-01-01"))
    assert str(refused.value).startswith(
        "in-force: EnteredIntoForce on 2099-01-01 has not happened yet (recorded ")
    assert "record it as expected: tracker record step-expected --commitment-id visa" in str(refused.value)
    assert [f.event_id for f in tracker.history(VISA)][-1] == "kz-ratified"


def test_an_imported_fact_is_future_only_if_it_has_not_happened_by_the_import(tracker):
    # Older versions accepted a fact dated after it was recorded: its export must still import, as recorded.
    early = datetime(2023, 5, 1, tzinfo=timezone.utc)
    tracker.record(parse_line({**registered(VISA), "recorded_at": early.isoformat()}))
    assert [f.recorded_at for _, f in tracker.facts()] == [early]
    with pytest.raises(NotHappenedYet, match=r"^visa-in-force: EnteredIntoForce on 2099-01-01 has not happened yet"):
        tracker.record(parse_line({**line("EnteredIntoForce", "visa-in-force", commitment_id=VISA,
                                          occurred_on="2099-01-01"), "recorded_at": early.isoformat()}))
    assert len(list(tracker.facts())) == 1


def test_meetings_and_indicators_may_not_be_dated_in_the_future_either(tracker):
    with pytest.raises(NotHappenedYet, match="record it once it has happened"):
        tracker.record(parse_line(line("MeetingHeld", "astana-2099", meeting_id="astana-2099",
                                       occurred_on="2099-09", title="State visit", parties=[{"country": "KZ"}])))
    with pytest.raises(NotHappenedYet):
        tracker.record(parse_line(line("TradeFigureReported", "trade-2099", occurred_on="2099", reporter="KZ",
                                       partner="CN", flow="exports", period="2098", value="1")))
    assert list(tracker.facts()) == []


def test_a_correction_may_not_move_a_fact_into_the_future(tracker):
    signed_by_both(tracker)
    with pytest.raises(NotHappenedYet):
        tracker.record(parse_line(line("EventCorrected", "fix", occurred_on="2024-01-01", corrects="kz-ratified",
                                       reason="wrong year", changes={"occurred_on": "2099-10-25"})))


def test_an_announced_entry_into_force_is_the_next_steps_due_date_and_goes_overdue_unconfirmed(tracker):
    signed_by_both(tracker)
    tracker.record(fact("StepExpected", "eif-announced", occurred_on="2024-05-20", step="entry into force",
                        expected_on="2024-07"))
    row = shown(tracker)
    assert (row["next_step"], row["next_step_due"], row["overdue"]) == ("entry into force", "2024-07", True)
    assert tracker.status(VISA).last_change == "CN: ratification completed"  # an announcement changes nothing
    as_of = shown(tracker, as_of=date(2024, 6, 1))
    assert (as_of["next_step_due"], as_of["overdue"]) == ("2024-07", False)
    tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2024-07-10"))
    row = shown(tracker)
    assert row["legal_status"] == "in force" and row["next_step"] != "entry into force"
    assert row["next_step_due"] != "2024-07"


def test_an_expected_step_may_be_announced_for_the_future(tracker):
    signed_by_both(tracker)
    tracker.record(fact("StepExpected", "eif-announced", occurred_on="2024-05-20", step="entry into force",
                        expected_on="2099-07"))
    row = shown(tracker)
    assert (row["next_step_due"], row["overdue"]) == ("2099-07", False)


def test_an_announcement_dated_in_the_future_is_refused_saying_to_date_it_when_made_not_to_expect_it(tracker):
    signed_by_both(tracker)
    with pytest.raises(NotHappenedYet) as refused:
        tracker.record(fact("StepExpected", "eif-announced", occurred_on="2099-05-20", step="entry into force",
                            expected_on="2099-07"))
    assert str(refused.value).startswith("eif-announced: StepExpected on 2099-05-20 has not happened yet (recorded ")
    assert str(refused.value).endswith(
        "): date it when it was announced; the step's date is its expected_on (2099-07)")
    assert [f.event_id for f in tracker.history(VISA)][-1] == "kz-ratified"


def test_the_reports_timeline_chart_is_not_stretched_to_the_bounds_of_an_open_or_unknown_date(tracker):
    from tracker import report

    signed_by_both(tracker, ratified_kz="../2024-03-01")
    tracker.record(fact("DomesticProcedureCompleted", "kz-notified", occurred_on="XXXX", party="KZ",
                        procedure="notification"))
    tracker.record(fact("EnteredIntoForce", "in-force", occurred_on="2024-06-01/.."))
    built = report.build(tracker)
    assert built["chart"].start == date(2023, 5, 1)
    assert built["chart"].end == date.today()
    assert built["world_period"]("XXXX") is None
    assert built["world_period"]("../2024-03-01")[:2] == (date(2024, 3, 1), date(2024, 3, 1))
