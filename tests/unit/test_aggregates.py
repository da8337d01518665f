"""The aggregates on their own: what a commitment, a meeting and an indicator series take or refuse."""

from uuid import UUID

import pytest

from events import parse_line
from events.aggregates import (
    Commitment,
    EventIdClaimed,
    IndicatorSeries,
    Meeting,
    Stream,
    project_stream,
    restore_line,
    seal,
    snapshot_line,
)
from events.errors import AlreadyRegistered, DuplicateEventId, ImpossibleTransition, InvalidInput, UnknownEvent
from events.rules import InvalidCorrection, evaluate
from tests.builders import fact, line, registered


def held(meeting: str = "xian", event_id: str = "xian-held"):
    return parse_line(line("MeetingHeld", event_id, meeting_id=meeting, occurred_on="2023-05-17",
                           title="State visit", parties=[{"country": "KZ"}, {"country": "CN"}]))


def reported(count: int, event_id: str = "count-a", meeting: str = "xian"):
    return parse_line(line("DocumentsReported", event_id, meeting_id=meeting, occurred_on="2023-05-17", count=count))


def trade_figure(event_id: str = "kz-exports-2023", value: str = "1000"):
    return parse_line(line("TradeFigureReported", event_id, occurred_on="2024-02-01", reporter="KZ", partner="CN",
                           flow="exports", period="2023", value=value))


def retraction(event_id: str, retracts: str):
    return parse_line({"type": "EventRetracted", "event_id": event_id, "occurred_on": "2024-01-01",
                       "retracts": retracts, "reason": "a rumour"})


def correction(event_id: str, corrects: str, **changes):
    return parse_line({"type": "EventCorrected", "event_id": event_id, "occurred_on": "2024-01-01",
                       "corrects": corrects, "reason": "the decree says otherwise", "changes": changes})


def signed(event_id: str = "visa-signed", on: str = "2023-05-17", cid: str = "visa"):
    return fact("DocumentSigned", event_id, cid=cid, occurred_on=on, instrument="agreement")


def visa(*facts) -> Commitment:  # noqa: ANN002
    commitment = Commitment("visa")
    for f in [parse_line(registered("visa")), *facts]:
        commitment.append(f)
    return commitment


# -- registration ------------------------------------------------------------------------


def test_a_commitment_refuses_any_fact_before_it_is_registered():
    commitment = Commitment("visa")
    with pytest.raises(ImpossibleTransition, match="commitment 'visa' must be registered first"):
        commitment.append(signed())
    assert len(commitment) == 0 and not commitment.has_pending


def test_a_commitment_is_registered_only_once():
    commitment = visa()
    with pytest.raises(AlreadyRegistered, match="commitment 'visa' is already registered"):
        commitment.append(parse_line({**registered("visa"), "event_id": "visa-registered-again"}))


def test_a_meeting_refuses_any_fact_before_it_is_held():
    with pytest.raises(ImpossibleTransition, match="meeting 'xian' must be registered first"):
        Meeting("xian").append(reported(22))


def test_a_meeting_refuses_a_second_meeting_held():
    meeting = Meeting("xian")
    meeting.append(held())
    with pytest.raises(AlreadyRegistered, match="meeting 'xian' is already registered"):
        meeting.append(held(event_id="xian-held-again"))


def test_an_indicator_series_needs_no_registration():
    series = IndicatorSeries("trade:KZ-CN")
    series.append(trade_figure())
    assert [f.event_id for f in series.pending] == ["kz-exports-2023"]


def test_only_a_registration_can_open_a_commitment_or_a_meeting():
    assert Commitment.opened_by(parse_line(registered("visa"))) and not Commitment.opened_by(signed())
    assert Meeting.opened_by(held()) and not Meeting.opened_by(reported(22))
    assert IndicatorSeries.opened_by(trade_figure())


# -- which facts each kind takes -------------------------------------------------------


def test_an_indicator_series_refuses_a_commitments_fact():
    with pytest.raises(InvalidInput, match="a DocumentSigned cannot be recorded in indicator 'trade:KZ-CN'"):
        IndicatorSeries("trade:KZ-CN").append(signed())


def test_a_commitment_refuses_a_trade_figure():
    with pytest.raises(InvalidInput, match="a TradeFigureReported cannot be recorded in commitment 'visa'"):
        visa().append(trade_figure())


def test_a_meeting_refuses_a_commitments_registration():
    meeting = Meeting("xian")
    meeting.append(held())
    with pytest.raises(InvalidInput, match="a CommitmentRegistered cannot be recorded in meeting 'xian'"):
        meeting.append(parse_line(registered("visa", meeting_id="xian")))


def test_a_fact_about_another_commitment_is_refused():
    with pytest.raises(InvalidInput, match="'road-signed' is about commitment:road, not commitment:visa"):
        visa().append(signed("road-signed", cid="road"))


def test_each_key_names_the_kind_of_aggregate_it_opens():
    assert type(Stream.for_key("commitment:visa")) is Commitment
    assert type(Stream.for_key("meeting:xian")) is Meeting
    series = Stream.for_key("indicator:trade:KZ-CN")
    assert type(series) is IndicatorSeries and series.name == "trade:KZ-CN"


def test_stream_ids_are_those_the_stores_were_written_with():
    assert Commitment("visa").id == UUID("5c7c29bc-60ad-55e1-9595-5677e9eb44d4")
    assert Meeting("xian").id == UUID("32691d39-293b-5122-9e71-db95c7fd8a15")
    assert IndicatorSeries("trade:KZ-CN").id == UUID("9d5c087a-16d9-56a5-938c-f87e077144aa")


# -- repeats, corrections, retractions ---------------------------------------------------


def test_a_repeat_of_the_same_fact_is_a_no_op():
    commitment = visa(signed())
    assert commitment.append(signed()) is None
    assert [f.event_id for f in commitment.facts] == ["visa-registered", "visa-signed"]


def test_other_content_under_the_same_event_id_is_refused():
    commitment = visa(signed())
    with pytest.raises(DuplicateEventId, match="'visa-signed' is already recorded with other content"):
        commitment.append(signed(on="2023-05-18"))


def test_a_correction_of_a_correction_is_refused():
    commitment = visa(signed(), correction("fix", "visa-signed", occurred_on="2023-05-18"))
    with pytest.raises(ImpossibleTransition, match="'fix' is itself a correction or retraction"):
        commitment.append(correction("fix-the-fix", "fix", occurred_on="2023-05-19"))


def test_a_registration_cannot_be_retracted():
    with pytest.raises(ImpossibleTransition, match="a registration cannot be retracted; correct it instead"):
        visa().append(retraction("oops", "visa-registered"))


def test_a_meeting_held_cannot_be_retracted_either():
    meeting = Meeting("xian")
    meeting.append(held())
    with pytest.raises(ImpossibleTransition, match="a registration cannot be retracted"):
        meeting.append(retraction("oops", "xian-held"))


def test_a_retracted_fact_cannot_be_retracted_again():
    commitment = visa(signed(), retraction("oops", "visa-signed"))
    with pytest.raises(ImpossibleTransition, match="'visa-signed' was already retracted"):
        commitment.append(retraction("oops-2", "visa-signed"))


def test_a_correction_must_name_a_fact_the_stream_holds():
    with pytest.raises(UnknownEvent, match="no event 'ghost' in commitment:visa"):
        visa().append(correction("fix", "ghost", occurred_on="2023-05-18"))


def test_a_correction_that_its_target_cannot_take_is_refused():
    with pytest.raises(InvalidCorrection, match="DocumentSigned has no field colour to correct"):
        visa(signed()).append(correction("fix", "visa-signed", colour="red"))


def test_a_trade_figure_can_be_retracted():
    series = IndicatorSeries("trade:KZ-CN")
    series.append(trade_figure())
    series.append(retraction("wrong-figure", "kz-exports-2023"))
    assert len(series) == 2


# -- world order and status --------------------------------------------------------------


def test_facts_learnt_out_of_world_order_are_refolded():
    commitment = visa(fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"))
    commitment.append(signed(on="2023-05-17"))  # learnt last, happened first
    assert commitment.settled
    assert (commitment.status.legal_status, commitment.status.signed_on) == ("in force", "2023-05-17")
    assert commitment.status.last_change == "entered into force"


def test_a_fact_impossible_in_world_order_is_refused_when_its_batch_is_settled():
    commitment = visa(fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"))
    commitment.append(signed(on="2024-01-01"), settle=False)  # signed after it entered into force
    assert not commitment.settled
    with pytest.raises(ImpossibleTransition):
        commitment.settle()


def test_a_status_folds_on_fact_by_fact_as_facts_arrive_in_world_order():
    commitment = visa(signed())
    assert commitment.status.legal_status == "signed"
    commitment.append(fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"))
    assert (commitment.status.legal_status, commitment.status.events) == ("in force", 3)


def test_a_retraction_takes_its_target_out_of_the_status():
    commitment = visa(signed(), retraction("oops", "visa-signed"))
    assert (commitment.status.legal_status, commitment.status.events) == ("not signed", 1)


# -- stamping, sealing, saving -------------------------------------------------------------


def test_each_fact_is_stamped_with_its_place_and_sealed_to_the_one_before():
    commitment = visa(signed())
    first, second = commitment.facts
    assert (first.originator_id, first.originator_version, second.originator_version) == (commitment.id, 1, 2)
    assert first.seal == seal(None, first) and second.seal == seal(first.seal, second)
    assert first.recorded_at is not None


def test_saving_collects_each_pending_fact_and_a_claim_on_its_event_id():
    commitment = visa(signed())
    events = commitment.collect_events()
    facts, claims = events[:2], events[2:]
    assert [f.event_id for f in facts] == ["visa-registered", "visa-signed"]
    assert all(isinstance(c, EventIdClaimed) and c.stream == "commitment:visa" for c in claims)
    assert [c.event_id for c in claims] == ["visa-registered", "visa-signed"]
    assert not commitment.has_pending and not commitment.pending


def test_a_snapshot_is_due_once_a_save_carries_the_stream_past_a_multiple_of_200():
    commitment = visa(*[fact("MilestoneReached", f"m{n}", occurred_on="2024-01-01", milestone=f"step {n}")
                        for n in range(198)])
    assert commitment.version == 199 and not commitment.snapshot_due
    commitment.append(fact("MilestoneReached", "m198", occurred_on="2024-01-01", milestone="step 198"))
    assert commitment.snapshot_due
    commitment.mark_saved()
    assert not commitment.snapshot_due


# -- snapshots ---------------------------------------------------------------------------


def test_a_commitment_read_back_from_its_snapshot_holds_the_same_facts_status_and_rules():
    original = visa(signed(), fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"),
                    retraction("oops", "in-force"))
    restored = project_stream(None, [original.snapshot()])
    assert type(restored) is Commitment and restored.key == "commitment:visa"
    assert (restored.version, len(restored)) == (4, 4) and restored.settled
    assert restored.status.to_dict() == original.status.to_dict()
    assert [(f.event_id, f.seal) for f in restored.facts] == [(f.event_id, f.seal) for f in original.facts]
    assert restored.append(signed()) is None
    with pytest.raises(ImpossibleTransition, match="'in-force' was already retracted"):
        restored.append(retraction("oops-2", "in-force"))
    late = fact("MilestoneReached", "m-late", occurred_on="2025-01-01", milestone="late",
                recorded_at="2025-01-02T09:00:00+00:00")  # the seal covers when it was learnt
    assert restored.append(late).seal == original.append(late).seal


def test_a_snapshot_is_read_back_as_the_kind_its_key_names():
    meeting = Meeting("xian")
    for f in (held(), reported(22), reported(47, "count-b")):
        meeting.append(f)
    series = IndicatorSeries("trade:KZ-CN")
    series.append(trade_figure())
    restored_meeting = project_stream(None, [meeting.snapshot()])
    restored_series = project_stream(None, [series.snapshot()])
    assert type(restored_meeting) is Meeting and [f.count for f in restored_meeting.facts[1:]] == [22, 47]
    assert type(restored_series) is IndicatorSeries and restored_series.key == "indicator:trade:KZ-CN"
    assert meeting.snapshot().status is None
    with pytest.raises(AlreadyRegistered):
        restored_meeting.append(held(event_id="xian-held-again"))


def test_facts_read_after_a_snapshot_carry_on_from_it():
    original = visa(signed())
    snapshot = original.snapshot()
    in_force = original.append(fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"))
    restored = project_stream(None, [snapshot, in_force])
    assert [f.event_id for f in restored.facts] == ["visa-registered", "visa-signed", "in-force"]
    assert restored.status.legal_status == "in force" and not restored.snapshot_due


def _read_back(commitment: Commitment) -> Commitment:
    restored = project_stream(None, [commitment.snapshot()])
    assert isinstance(restored, Commitment) and restored.settled
    return restored


def _long_visa() -> Commitment:
    return visa(signed(), *[fact("MilestoneReached", f"m{n}", occurred_on=f"2024-{n % 12 + 1:02d}-01",
                                 milestone=f"step {n}") for n in range(60)],
                correction("m3-date", "m3", occurred_on="2024-02-15"), retraction("m5-gone", "m5"),
                parse_line(line("SourceCited", "m7-cited", occurred_on="2024-08-02", cites="m7")))


def test_a_fact_dated_before_all_others_on_a_commitment_read_from_its_snapshot_folds_as_a_fold_from_scratch():
    restored = _read_back(_long_visa())
    earliest = fact("MilestoneReached", "early", occurred_on="2023-05-18", milestone="talks began")
    restored.append(earliest)
    validated = [restore_line(restored.id, snapshot_line(f)) for f in restored.facts]  # each validated again
    assert restored.status.to_dict() == evaluate("visa", validated).to_dict()
    assert restored.status.implementation_since == "2023-05-18"


def test_a_fact_dated_before_all_others_that_contradicts_them_is_refused_on_a_commitment_read_from_its_snapshot():
    restored = _read_back(_long_visa())
    restored.append(fact("Terminated", "ended-early", occurred_on="2023-05-16"), settle=False)
    with pytest.raises(ImpossibleTransition, match="visa-signed: .* is impossible: the commitment was terminated"):
        restored.settle()
