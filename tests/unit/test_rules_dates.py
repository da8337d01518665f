"""Uncertain dates as rules: where a fact of a vague, ranged, open or unknown date is placed,
when it counts as happened, when it may be recorded, and what an expected step gives."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import parse_line
from events.aggregates import Commitment, happened_by
from events.base import world_period, world_place
from events.errors import ImpossibleTransition, NotHappenedYet
from events.rules import Status, certainty, evaluate, folds_on, world_key, world_order
from tests.builders import fact, registered
from tests.unit.rules_histories import history, in_force, ratified, signed, suspended


def at(text):
    return datetime.fromisoformat(text)


# -- the place of a date in world order -----------------------------------------------------------


@pytest.mark.parametrize("text, place", [
    ("2023-05-17", "2023-05-17"),
    ("2023-05", "2023-05-01"),
    ("2023-Q2", "2023-04-01"),
    ("2023", "2023-01-01"),
    ("2023-06-12/2023-06-14", "2023-06-12"),
    ("2023-06/2023-08", "2023-06-01"),
    ("../2024-03-01", "2024-03-01"),
    ("../2024-03", "2024-03-31"),
    ("2024-03-01/..", "2024-03-01"),
    ("2024-03/..", "2024-03-01"),
    ("2023-06~", "2023-06-01"),
    ("2024-06-XX", "2024-06-01"),
    ("2024-XX", "2024-01-01"),
    ("XXXX", None),
    ("XXXX?", None),
])
def test_a_date_is_placed_at_the_first_day_of_its_period_an_open_start_at_its_end_an_unknown_nowhere(text, place):
    assert world_place(text) == place


@pytest.mark.parametrize("text, expected", [
    ("2023-05/2023-Q3", (date(2023, 5, 1), date(2023, 9, 30), "range")),
    ("2023/2024-02", (date(2023, 1, 1), date(2024, 2, 29), "range")),
    ("2023-06-14/2023-06-14", (date(2023, 6, 14), date(2023, 6, 14), "range")),
    ("../2023-Q1", (date(1800, 1, 1), date(2023, 3, 31), "before")),
    ("2023-Q3/..", (date(2023, 7, 1), date(2200, 12, 31), "after")),
    ("2023-02-XX", (date(2023, 2, 1), date(2023, 2, 28), "month")),
    ("XXXX~", (date(1800, 1, 1), date(2200, 12, 31), "unknown, approximate")),
    ("2023-Q2?", (date(2023, 4, 1), date(2023, 6, 30), "quarter, uncertain")),
    ("2023-05-17~", (date(2023, 5, 17), date(2023, 5, 17), "day, approximate")),
    ("1800-01-01", (date(1800, 1, 1), date(1800, 1, 1), "day")),
    ("2200", (date(2200, 1, 1), date(2200, 12, 31), "year")),
])
def test_every_bound_of_a_range_keeps_its_own_period(text, expected):
    assert world_period(text) == expected


@pytest.mark.parametrize("text, message", [
    ("2023-06-15/2023-06-14", "'2023-06-15/2023-06-14' is not a world date (the range ends before it starts)"),
    ("2024-XX-05", "'2024-XX-05' is not a world date (a day in an unknown month)"),
    ("../1799", "'../1799': year out of range 1800-2200"),
    ("2201/..", "'2201/..': year out of range 1800-2200"),
    ("2023-02-30/2023-03", "'2023-02-30/2023-03' is not a real calendar day"),
    ("2023/2023-13", "'2023/2023-13' is not a world date: use YYYY-MM-DD"),
    ("../..", "'../..' is not a world date: use"),
])
def test_a_malformed_range_or_date_is_refused_naming_the_whole_date_and_why(text, message):
    with pytest.raises(ValueError) as refused:
        world_period(text)
    assert str(refused.value).startswith(message)


# -- world order ----------------------------------------------------------------------------------


def keyed(*facts):
    return [f.event_id for f, _ in world_order(history(*facts))]


def test_a_fact_of_unknown_date_is_placed_where_the_legal_process_puts_it():
    facts = [in_force("2023-11-10"), ratified("KZ", "XXXX"), signed("2023-05-17")]
    assert keyed(*facts) == ["visa-registered", "signed", "kz-ratified", "in-force"]
    status = evaluate("visa", history(*facts))
    assert (status.legal_status, status.undated, status.procedures) == ("in force", 1, {"KZ": "XXXX"})


def test_facts_of_unknown_date_keep_the_order_of_the_legal_process_among_themselves():
    facts = [in_force("XXXX"), ratified("KZ", "XXXX"), signed("XXXX")]
    assert keyed(*facts) == ["visa-registered", "signed", "kz-ratified", "in-force"]


def test_a_signing_of_unknown_date_comes_after_the_registration_and_before_the_entry_into_force():
    assert keyed(in_force("2023-11-10"), signed("XXXX")) == ["visa-registered", "signed", "in-force"]
    assert keyed(in_force("2023-11-10"), signed("XXXX")) == keyed(signed("XXXX"), in_force("2023-11-10"))


def test_an_open_start_is_placed_at_its_end_bound_so_it_cannot_make_a_real_history_impossible():
    facts = [signed("2023-05-17"), in_force("../2024-01-31"), suspended("legal", "2024-01-15")]
    assert keyed(*facts) == ["visa-registered", "signed", "legal-suspended", "in-force"]
    with pytest.raises(ImpossibleTransition):
        evaluate("visa", history(*facts))
    assert evaluate("visa", history(signed("2023-05-17"), in_force("../2024-01-31"),
                                   suspended("legal", "2024-02-01"))).legal_status == "suspended"


DATES = ["2023-05-17", "2023-05", "2023-Q2", "2023", "2023-05-10/2023-05-20", "../2023-05-17", "2023-05-17/..",
         "XXXX", "2023-05-17~", "2023-XX"]
# One fact of each step (each of its own rank: a tie of one rank and day keeps the recording order).
KINDS = [lambda on, n: signed(on, f"s{n}"), lambda on, n: ratified("KZ", on, f"k{n}"),
         lambda on, n: fact("ProvisionallyApplied", f"p{n}", occurred_on=on), lambda on, n: in_force(on, f"f{n}"),
         lambda on, n: fact("Assessed", f"a{n}", occurred_on=on, score=1, note="fine")]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(KINDS))), st.sampled_from(DATES)), min_size=1, max_size=5,
                unique_by=lambda pair: pair[0]),
       st.randoms(use_true_random=False))
def test_world_order_does_not_depend_on_the_recording_order_with_ranges_open_bounds_and_unknown_dates(chosen, rnd):
    facts = [KINDS[k](on, k) for k, on in chosen]
    shuffled = list(facts)
    rnd.shuffle(shuffled)

    def order(recorded):
        return [(f.type, f.occurred_on, key[:2]) for f, key in world_order(history(*recorded))]

    def told(recorded):
        try:
            s = evaluate("visa", history(*recorded))
        except ImpossibleTransition as refusal:
            return str(refusal)
        return s.legal_status, s.signed_on, s.in_force_on, s.procedures, s.undated, s.assessment_score

    assert order(facts) == order(shuffled)
    assert told(facts) == told(shuffled)
    placed = [key for *_, key in order(facts) if key[0] != "unknown"]
    assert placed == sorted(placed)


# -- folding on, or again -------------------------------------------------------------------------


@pytest.mark.parametrize("last, keys, expected", [
    (None, [("2023-05-17", 1, 2)], True),
    (("2023-05-17", 1, 2), [("2023-05-17", 1, 3)], True),
    (("2023-05-17", 1, 2), [("2023-05-17", 1, 2)], True),
    (("2023-05-17", 1, 2), [("2023-05-17", 1, 1)], False),
    (("2023-05-17", 1, 2), [("2023-05-18", 0, 1), ("2023-05-17", 9, 9)], False),
    (("2023-05-17", 1, 2), [("2023-05-18", 0, 1), ("2023-05-19", 0, 2)], True),
    (("2023-05-17", 1, 2), [("unknown", 1, 3)], False),
    (None, [("unknown", 1, 3)], False),
    (("2023-05-17", 1, 2), [], True),
])
def test_new_facts_are_folded_on_only_when_they_come_after_the_last_and_have_a_known_date(last, keys, expected):
    state = Status(commitment_id="visa", last_key=last)
    assert folds_on(state, keys) is expected


def test_a_status_holding_an_unknown_date_is_always_folded_again():
    assert folds_on(Status(commitment_id="visa", undated=1), [("2099-01-01", 0, 1)]) is False


# -- as of a date: certainly, possibly, not yet -----------------------------------------------------


@pytest.mark.parametrize("on, recorded, as_of, expected", [
    ("2023-05", None, date(2023, 5, 31), "certainly"),
    ("2023-05", None, date(2023, 5, 30), "possibly"),
    ("2023-05", None, date(2023, 5, 1), "possibly"),
    ("2023-05", None, date(2023, 4, 30), "not yet"),
    ("2023-05", "2023-05-10T12:00:00+00:00", date(2023, 5, 10), "certainly"),
    ("2023-05", "2023-05-10T12:00:00+00:00", date(2023, 5, 9), "possibly"),
    ("2023-05-17", None, date(2023, 5, 17), "certainly"),
    ("2023-05-17", None, date(2023, 5, 16), "not yet"),
    ("XXXX", None, date(2023, 5, 16), "possibly"),
    ("../2023-05-17", None, date(2023, 5, 16), "possibly"),
])
def test_a_fact_certainly_happened_once_its_period_ended_or_it_was_recorded(on, recorded, as_of, expected):
    f = in_force(on).model_copy(update={"recorded_at": at(recorded) if recorded else None})
    assert certainty(f, as_of) == expected


def test_as_of_a_date_a_fact_that_possibly_happened_is_named_but_not_counted():
    facts = history(signed("2023-05-17"), in_force("2023-11"))
    status = evaluate("visa", facts, as_of=date(2023, 11, 15))
    assert (status.legal_status, status.possibly) == ("signed", ["entered into force (2023-11)"])
    assert evaluate("visa", facts, as_of=date(2023, 10, 31)).possibly == []


# -- what may be recorded when --------------------------------------------------------------------


def stream(f, recorded_at):
    commitment = Commitment("visa")
    commitment.append(parse_line(registered("visa")).model_copy(update={"recorded_at": at("2023-06-01T00:00:00+00:00")}))
    commitment.append(f.model_copy(update={"recorded_at": recorded_at}))
    return commitment


@pytest.mark.parametrize("occurred_on, recorded_at, taken", [
    ("2024-01-02", "2024-01-01T10:00:00+00:00", True),
    ("2024-01-02", "2024-01-01T09:59:59+00:00", False),
    ("2024-01-03", "2024-01-01T23:00:00+00:00", False),
    ("2024-01-01", "2024-01-01T00:00:00+00:00", True),
    ("2024-01-02", "2024-01-01T20:00:00+10:00", True),
    ("2024-01-02", "2024-01-01T19:59:00+10:00", False),
    ("2024-01-02", "2024-01-01T10:00:00", True),
    ("2024-01-02", "2024-01-01T09:00:00", False),
    ("2024-01", "2023-12-31T10:00:00+00:00", True),
    ("2024-01", "2023-12-31T09:00:00+00:00", False),
    ("../2030", "2024-01-01T00:00:00+00:00", True),
    ("2023-12-31/..", "2024-01-01T00:00:00+00:00", True),
    ("XXXX", "2024-01-01T00:00:00+00:00", True),
])
def test_a_fact_has_happened_once_its_period_may_have_started_somewhere_in_the_world(occurred_on, recorded_at, taken):
    # The rule the store applies at the moment a fact enters it (an import's lines keep their own recorded_at).
    assert happened_by(signed(occurred_on), datetime.fromisoformat(recorded_at)) is taken


def test_a_commitment_fact_to_come_is_recorded_as_expected_and_another_once_it_has_happened():
    with pytest.raises(NotHappenedYet, match="record it as expected: tracker record step-expected --commitment-id visa"
                                             " --step 'signing' --expected-on 2099 --occurred-on <when it was announced>"):
        stream(signed("2099"), at("2024-01-01T00:00:00+00:00"))


def test_a_correction_into_the_future_is_refused_as_not_happened():
    commitment = stream(signed("2023-05-17"), at("2024-01-01T00:00:00+00:00"))
    fix = parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2024-01-01", "corrects": "signed",
                      "reason": "typo", "changes": {"occurred_on": "2099-01-01"}})
    with pytest.raises(NotHappenedYet):
        commitment.append(fix.model_copy(update={"recorded_at": at("2024-01-01T00:00:00+00:00")}))


# -- expected steps ---------------------------------------------------------------------------------


def expected(step, on, eid=None, announced="2023-06-01"):
    return fact("StepExpected", eid or f"expected-{step}".replace(" ", "-"), occurred_on=announced, step=step, expected_on=on)


@pytest.mark.parametrize("facts, upcoming", [
    ([signed(), expected("entry into force", "2025-07")], ("domestic procedures: CN, KZ", None)),
    ([signed(), ratified("KZ"), ratified("CN"), expected("entry into force", "2025-07")],
     ("entry into force", "2025-07")),
    ([signed(), expected("domestic procedures", "2024")], ("domestic procedures: CN, KZ", "2024")),
    ([expected("signing", "2023-Q4")], ("signing", "2023-Q4")),
    ([expected("signing", "2023-Q4"), signed()], ("domestic procedures: CN, KZ", None)),
    ([signed(), in_force(), suspended(), expected("resumption", "2025")], ("resumption", "2025")),
])
def test_an_expected_date_is_the_next_steps_due_date_until_that_step_happens(facts, upcoming):
    assert evaluate("visa", history(*facts)).upcoming() == upcoming


def test_an_expected_step_is_never_counted_as_happened():
    status = evaluate("visa", history(signed(), ratified("KZ"), ratified("CN"), expected("entry into force", "2024-01")))
    assert (status.legal_status, status.in_force_on, status.expected) == ("domestic procedures", None,
                                                                         {"entry into force": "2024-01"})
    assert status.last_change_on == "2023-09-01"
    as_of = evaluate("visa", history(signed(), expected("entry into force", "2023-07")), as_of=date(2024, 1, 1))
    assert as_of.legal_status == "signed"


def test_an_ended_commitment_has_nothing_upcoming_whatever_was_expected():
    status = evaluate("visa", history(signed(), fact("Terminated", "end", occurred_on="2024-01-01"),
                                      expected("entry into force", "2025")))
    assert status.upcoming() == (None, None)


def test_the_world_key_of_a_fact_recorded_without_a_number_counts_it_first_of_its_day():
    assert world_key(signed("2023-05")) == ("2023-05-01", 1, 0)
    assert world_key(signed("XXXX")) == ("unknown", 1, 0)
    assert world_key(signed("../2023-05")) == ("2023-05-31", 1, 0)



def test_a_date_of_unknown_month_and_day_is_a_year():
    assert world_period("2024-XX-XX") == (date(2024, 1, 1), date(2024, 12, 31), "year")


def test_a_ratification_of_unknown_date_comes_after_the_known_ratifications():
    facts = [signed("2023-05-17"), ratified("KZ", "2023-09-01"), ratified("CN", "XXXX"), in_force("2023-11-10")]
    assert keyed(*facts) == ["visa-registered", "signed", "kz-ratified", "cn-ratified", "in-force"]


def test_without_a_registration_a_fact_of_unknown_date_before_every_placed_one_comes_first():
    facts = [in_force("2023-11-10"), signed("XXXX")]
    assert [f.event_id for f, _ in world_order(facts)] == ["signed", "in-force"]


def test_a_fact_that_is_no_commitments_is_recorded_once_it_has_happened():
    from events.aggregates import Meeting
    held = parse_line({"type": "MeetingHeld", "event_id": "held", "meeting_id": "xian", "occurred_on": "2030-05-17",
                       "title": "State visit", "parties": [{"country": "KZ"}, {"country": "CN"}]})
    with pytest.raises(NotHappenedYet, match="record it once it has happened$"):
        Meeting("xian").append(held.model_copy(update={"recorded_at": at("2024-01-01T00:00:00+00:00")}))
