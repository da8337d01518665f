"""World order, the world date and the moment asked for, next steps, and what a status keeps."""

import re
from datetime import date
from uuid import uuid4

import pytest

from events import parse_line, world_period
from events.errors import ImpossibleTransition, UnknownEvent
from events.rules import InvalidCorrection, Status, apply_changes, evaluate, world_key
from tests.builders import fact
from tests.unit.rules_histories import (
    ENDINGS,
    at,
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
    suspended,
)

DAY = "2024-02-01"

# -- facts of one day follow the legal process, whatever order they were recorded in ----------------


FORCE = [signed("2023-05-17", "s0"), in_force("2023-11-10", "f0")]


@pytest.mark.parametrize("prior, earlier, later, expected", [
    ([], lambda: signed(DAY), lambda: ratified("KZ", DAY), ("domestic procedures", "committed")),
    ([], lambda: signed(DAY), lambda: contracts(DAY), ("signed", "committed")),
    ([], lambda: signed(DAY), lambda: provisional(DAY), ("provisionally applied", "committed")),
    ([], lambda: ratified("KZ", DAY), lambda: provisional(DAY), ("provisionally applied", "no evidence")),
    ([], lambda: provisional(DAY), lambda: in_force(DAY), ("in force", "no evidence")),
    ([], lambda: in_force(DAY), lambda: milestone(DAY), ("in force", "in implementation")),
    ([], lambda: in_force(DAY), lambda: suspended("legal", DAY), ("suspended", "no evidence")),
    ([], lambda: milestone(DAY), lambda: suspended("implementation", DAY), ("not signed", "suspended")),
    (FORCE, lambda: suspended("legal", DAY), lambda: resumed("legal", DAY), ("in force", "committed")),
    (FORCE, lambda: resumed("legal", DAY), lambda: ENDINGS["terminated"](DAY), ("terminated", "committed")),
    (FORCE, lambda: suspended("legal", DAY), lambda: ENDINGS["expired"](DAY), ("expired", "committed")),
])
def test_facts_of_the_same_day_are_placed_in_the_order_of_the_legal_process(prior, earlier, later, expected):
    if earlier().type == "Resumed":
        prior = [*prior, suspended("legal", "2024-01-01", "z0")]
    for recorded in ([earlier(), later()], [later(), earlier()]):
        status = evaluate("visa", history(*prior, *recorded))
        assert (status.legal_status, status.implementation_status) == expected
        assert status.last_event_id == later().event_id


def test_an_assessment_is_placed_after_everything_else_of_its_day():
    assessed = fact("Assessed", "assessed", occurred_on=DAY, score=1, note="kept on time")
    status = evaluate("visa", history(assessed, in_force(DAY)))
    assert (status.assessment_score, status.assessment_on, status.assessment_note) == (1, DAY, "kept on time")
    assert status.last_change == "entered into force"


def test_facts_of_one_kind_on_one_day_keep_their_recording_order():
    status = evaluate("visa", history(signed(), implementation("committed", DAY),
                                      implementation("in implementation", DAY)))
    assert status.implementation_status == "in implementation"
    with pytest.raises(ImpossibleTransition, match="already in implementation"):
        evaluate("visa", history(signed(), implementation("in implementation", DAY),
                                 implementation("committed", DAY)))


def test_the_world_key_is_the_first_day_then_the_step_then_the_recording_order():
    first, second = history(in_force("2023-11"), signed("2023-11-01"))[1:]
    assert world_key(first)[0] == world_key(second)[0] == "2023-11-01"
    assert world_key(second) < world_key(first)
    assert world_key(first)[2] == 2
    unnumbered = in_force("2023-Q4")
    assert world_key(unnumbered) == ("2023-10-01", world_key(first)[1], 0)


# -- a fact known only to the month, quarter or year is placed at its first day ------------------------


@pytest.mark.parametrize("vague", ["2023-11", "2023-Q4", "2023"])
def test_a_vague_date_is_placed_at_the_first_day_of_its_period(vague):
    status = evaluate("visa", history(suspended("legal", "2023-11-15"), in_force(vague), signed("2023-01-01")))
    assert (status.legal_status, status.in_force_on) == ("suspended", vague)


@pytest.mark.parametrize("vague, last_day", [
    ("2023-11-10", date(2023, 11, 10)),
    ("2023-11", date(2023, 11, 30)),
    ("2024-02", date(2024, 2, 29)),
    ("2023-Q1", date(2023, 3, 31)),
    ("2023-Q2", date(2023, 6, 30)),
    ("2023-Q3", date(2023, 9, 30)),
    ("2023-Q4", date(2023, 12, 31)),
    ("2023", date(2023, 12, 31)),
])
def test_a_fact_counts_as_of_the_last_day_of_its_period_and_not_before(vague, last_day):
    facts = history(signed("2023-01-01"), in_force(vague))
    assert evaluate("visa", facts, as_of=last_day).legal_status == "in force"
    assert evaluate("visa", facts, as_of=date.fromordinal(last_day.toordinal() - 1)).legal_status == "signed"


@pytest.mark.parametrize("text, first, last, precision", [
    ("2023-04", date(2023, 4, 1), date(2023, 4, 30), "month"),
    ("2023-12", date(2023, 12, 1), date(2023, 12, 31), "month"),
    ("2023-02", date(2023, 2, 1), date(2023, 2, 28), "month"),
    ("2023-Q2", date(2023, 4, 1), date(2023, 6, 30), "quarter"),
    ("2023-Q3", date(2023, 7, 1), date(2023, 9, 30), "quarter"),
    ("2024-02-29", date(2024, 2, 29), date(2024, 2, 29), "day"),
    ("1800", date(1800, 1, 1), date(1800, 12, 31), "year"),
    ("2200-12-31", date(2200, 12, 31), date(2200, 12, 31), "day"),
])
def test_every_form_of_world_date_gives_its_first_and_last_day(text, first, last, precision):
    assert world_period(text) == (first, last, precision)


@pytest.mark.parametrize("text, message", [
    ("1799", "'1799': year out of range 1800-2200"),
    ("2201-01", "'2201-01': year out of range 1800-2200"),
    ("2023-02-29", "'2023-02-29' is not a real calendar day"),
    ("2023-00", "'2023-00' is not a world date: use YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO"),
    ("2023-Q0", "'2023-Q0' is not a world date"),
    ("2023-11-10x", "is not a world date"),
])
def test_a_date_outside_the_calendar_or_the_range_is_refused_with_its_reason(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        world_period(text)


# -- what had been recorded by a moment ------------------------------------------------------------


def test_a_fact_recorded_exactly_at_the_moment_asked_for_counts():
    facts = history(signed(), in_force().model_copy(update={"recorded_at": at(2024, 1, 1, 12)}))
    assert evaluate("visa", facts, known_at=at(2024, 1, 1, 12)).legal_status == "in force"
    assert evaluate("visa", facts, known_at=at(2024, 1, 1, 11)).legal_status == "signed"


def test_a_fact_with_no_recording_moment_counts_at_any_moment():
    assert evaluate("visa", history(signed()), known_at=at(1900, 1, 1)).legal_status == "signed"


def test_a_correction_recorded_after_the_moment_asked_for_does_not_count_yet():
    corrected = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                            "corrects": "in-force", "reason": "it was the 12th",
                            "changes": {"occurred_on": "2023-11-12"}, "recorded_at": "2024-02-01T00:00:00Z"})
    facts = history(signed(), in_force(), corrected)
    assert evaluate("visa", facts, known_at=at(2024, 1, 1)).in_force_on == "2023-11-10"
    assert evaluate("visa", facts, known_at=at(2024, 2, 1)).in_force_on == "2023-11-12"


# -- corrections and retractions --------------------------------------------------------------------


def test_a_retraction_of_nothing_recorded_is_refused():
    retracted = parse_line({"type": "EventRetracted", "event_id": "oops", "occurred_on": "2023-12-01",
                            "retracts": "never", "reason": "wrong report"})
    with pytest.raises(UnknownEvent, match="no event 'never' to retract here"):
        evaluate("visa", history(signed(), retracted))


def test_a_correction_of_nothing_recorded_is_refused():
    corrected = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                            "corrects": "never", "reason": "typo", "changes": {"occurred_on": "2023-11-12"}})
    with pytest.raises(UnknownEvent, match="no event 'never' to correct here"):
        evaluate("visa", history(signed(), corrected))


@pytest.mark.parametrize("changes, message", [
    ({"colour": "red"}, "DocumentSigned has no field colour to correct"),
    ({"occurred_on": "2023-02-30"},
     "correction is invalid: DocumentSigned: occurred_on: '2023-02-30' is not a real calendar day"),
])
def test_a_correction_the_fact_cannot_take_is_bad_input(changes, message):
    corrected = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                            "corrects": "signed", "reason": "typo", "changes": changes})
    with pytest.raises(InvalidCorrection, match=message):
        evaluate("visa", history(signed(), corrected))


def test_a_corrected_fact_keeps_its_stream_and_its_place_in_it():
    [_, original] = history(signed())
    original = original.model_copy(update={"originator_id": uuid4()})
    changed = apply_changes(original, {"place": "Xian"})
    assert (changed.originator_id, changed.originator_version) == (original.originator_id, 2)
    assert (changed.place, changed.occurred_on) == ("Xian", "2023-05-17")


def test_a_corrected_fact_is_folded_in_the_place_of_the_original():
    corrected = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                            "corrects": "signed", "reason": "typo", "changes": {"place": "Xian"}})
    facts = history(signed(), corrected)
    status = evaluate("visa", facts)
    assert status.last_change == "agreement signed in Xian"
    assert status.last_key == world_key(facts[1])


# -- the next step of the generic lifecycle ------------------------------------------------------------


@pytest.mark.parametrize("facts, fields, expected", [
    ([], {"binding": False, "target_on": "2024"}, ("signing", "2024")),
    ([implementation("announced", "2023-04-01")], {"binding": False}, ("signing", None)),
    ([], {"binding": False, "kind": "commercial contracts", "target_on": "2024"}, ("implementation", "2024")),
    ([signed()], {"binding": False, "target_on": "2024-06"}, ("implementation", "2024-06")),
    ([signed(), milestone()], {"binding": False, "target_on": "2024-06"}, ("completion", "2024-06")),
    ([signed(), branch()], {"binding": False, "target_on": "2024-06"}, (None, None)),
    ([signed(), provisional()], {"binding": True}, ("entry into force", None)),
    ([signed(), provisional()], {"binding": False, "target_on": "2025"}, ("implementation", "2025")),
    ([signed(), in_force()], {"binding": True, "target_on": "2025"}, ("implementation", "2025")),
    ([signed(), in_force(), milestone("2023-12-01")], {"binding": True}, ("completion", None)),
    ([signed(), in_force(), suspended("implementation")], {"binding": True}, ("implementation resumed", None)),
    ([signed(), in_force(), suspended()], {"binding": True, "target_on": "2025"}, ("resumption", None)),
    ([signed(), ratified("CN")], {"binding": True}, ("domestic procedures: KZ", None)),
    ([signed(), implementation("cancelled")], {"binding": True}, (None, None)),
    ([milestone("2023-04-01")], {"binding": False, "target_on": "2024"}, ("completion", "2024")),
])
def test_the_next_step_follows_the_lifecycle(facts, fields, expected):
    assert evaluate("visa", history(*facts, **fields)).next_step() == expected


def test_an_entry_into_force_date_needs_both_the_rule_and_a_notification():
    status = evaluate("visa", history(signed(), entry_into_force={"days_after_last_notification": 30}))
    assert status.days_after_last_notification == 30
    assert status.next_step() == ("domestic procedures: CN, KZ", None)
    none_needed = evaluate("visa", history(signed(), ratified("KZ"), ratified("CN", "2023-10-01"),
                                           entry_into_force={"days_after_last_notification": 0}))
    assert none_needed.next_step() == ("entry into force", "2023-10-01")


# -- what a status keeps ------------------------------------------------------------------------------


def test_a_status_counts_its_facts_and_those_without_a_source():
    unsourced = milestone().model_copy(update={"source": None})
    status = evaluate("visa", history(signed().model_copy(update={"source": None}), unsourced, binding=False))
    assert (status.events, status.unsourced) == (3, 2)
    assert (status.last_change_on, status.last_change, status.last_event_id) == ("2023-10-01", "milestone: first flight",
                                                                              "milestone")


def test_a_status_keeps_what_the_registration_says():
    status = evaluate("visa", history(target_on="2025", sector="transport", meeting_id="xian-2023",
                                      counted_in_meeting_total=False))
    assert (status.kind, status.title, status.binding, status.target_on) == ("agreement", "Agreement visa", True, "2025")
    assert (status.sector, status.meeting_id, status.counted_in_meeting_total) == ("transport", "xian-2023", False)
    assert status.parties == [{"country": "KZ"}, {"country": "CN"}]
    assert status.days_after_last_notification is None
    assert (status.last_change, status.last_event_id, status.last_change_on) == ("registered: Agreement visa",
                                                                                "visa-registered", "2023-05-17")


def test_a_registration_dated_after_the_first_fact_does_not_hide_the_latest_change():
    status = evaluate("visa", history(signed("2023-01-10"), binding=False))
    status_late = evaluate("visa", history(signed("2023-01-10"), binding=False, occurred_on="2023-06-01"))
    assert status.last_change == "agreement signed"
    assert (status_late.last_change, status_late.last_event_id) == ("agreement signed", "signed")


def test_a_status_survives_a_round_trip_through_its_dict():
    status = evaluate("visa", history(signed(), ratified("KZ")))
    again = Status.from_dict(status.to_dict())
    assert again == status and isinstance(again.last_key, tuple)
    assert Status.from_dict({"commitment_id": "x"}).last_key is None


def test_a_clone_can_be_folded_on_without_touching_the_original():
    status = evaluate("visa", history(signed()))
    copy = status.clone()
    copy.apply(ratified("KZ"))
    assert status.procedures == {} and copy.procedures == {"KZ": "2023-09-01"}
    assert status.legal_status == "signed" and status.events == 2
