"""The application on real stores: given these events, the board shows..."""

from __future__ import annotations

import pytest

from events import parse_line
from events.errors import DuplicateEventId, ImpossibleTransition, UnknownCommitment, UnknownEvent, UnknownMeeting
from tests.builders import fact, line, registered
from tracker.application import Tracker


def test_given_a_registration_and_a_signing_the_board_shows_it_signed(tracker):
    tracker.record_many([parse_line(registered("visa")), fact("DocumentSigned", "visa-signed", instrument="agreement")])
    [status] = tracker.board()
    assert (status.commitment_id, status.legal_status, status.implementation_status) == ("visa", "signed", "committed")


def test_recording_the_same_fact_twice_changes_nothing(tracker):
    tracker.record(parse_line(registered("visa")))
    again = tracker.record(parse_line(registered("visa")))
    assert (again.added, again.unchanged) == (0, 1)
    assert len(list(tracker.facts())) == 1


def test_an_event_id_is_unique_across_the_whole_store(tracker):
    tracker.record_many([parse_line(registered("visa")), parse_line(registered("road"))])
    tracker.record(fact("DocumentSigned", "signed-1", cid="visa", instrument="agreement"))
    with pytest.raises(DuplicateEventId, match="already used in commitment:visa"):
        tracker.record(fact("DocumentSigned", "signed-1", cid="road", instrument="agreement"))


def test_facts_about_an_unregistered_commitment_are_refused(tracker):
    with pytest.raises(UnknownCommitment, match="'nowhere'"):
        tracker.record(fact("DocumentSigned", "x", cid="nowhere", instrument="agreement"))


def test_a_commitment_cannot_cite_a_meeting_nobody_recorded(tracker):
    with pytest.raises(UnknownMeeting, match="'atlantis-2023'"):
        tracker.record(parse_line(registered("visa", meeting_id="atlantis-2023")))


def test_an_import_with_one_impossible_fact_writes_nothing(tracker):
    batch = [
        parse_line(registered("visa")),
        fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"),
        fact("DocumentSigned", "late-signing", occurred_on="2024-01-01", instrument="agreement"),
    ]
    with pytest.raises(ImpossibleTransition):
        tracker.record_many(batch)
    assert list(tracker.facts()) == []
    assert tracker.recorder.max_notification_id() is None


def test_a_correction_points_at_the_fact_it_corrects_and_both_stay(tracker):
    tracker.record_many([parse_line(registered("visa")), fact("EnteredIntoForce", "in-force", occurred_on="2023-11-01")])
    tracker.record(parse_line({"type": "EventCorrected", "event_id": "fix", "occurred_on": "2023-12-01",
                               "corrects": "in-force", "reason": "The decree says the 10th",
                               "changes": {"occurred_on": "2023-11-10"}}))
    assert [f.event_id for f in tracker.history("visa")] == ["visa-registered", "in-force", "fix"]
    assert tracker.status("visa").in_force_on == "2023-11-10"


def test_correcting_an_event_nobody_recorded_is_refused(tracker):
    with pytest.raises(UnknownEvent, match="'ghost'"):
        tracker.record(parse_line({"type": "EventRetracted", "event_id": "r", "occurred_on": "2023",
                                   "retracts": "ghost", "reason": "never happened"}))


def test_a_long_history_is_loaded_from_a_snapshot(tracker):
    tracker.record(parse_line(registered("visa", binding=False)))
    tracker.record_many(
        [fact("MilestoneReached", f"m{n}", occurred_on="2024-01-01", milestone=f"step {n}") for n in range(450)]
    )
    snapshots = list(tracker.snapshots.get(tracker.commitment("visa").id, desc=True, limit=1))
    assert snapshots and snapshots[0].originator_version == 451  # taken when a save crosses a multiple of 200
    stream = tracker.commitment("visa")
    assert stream.version == 451 and len(stream.facts) == 451
    assert tracker.status("visa").implementation_status == "in implementation"


def test_a_stream_read_from_its_snapshot_still_keeps_every_rule(tracker):
    tracker.record_many([parse_line(registered("visa", binding=False)),
                         fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10")])
    tracker.record_many(
        [fact("MilestoneReached", f"m{n}", occurred_on="2024-01-01", milestone=f"step {n}") for n in range(250)]
    )
    later = Tracker(tracker.store)  # another process: nothing cached, the snapshot is read
    try:
        later.record(fact("MilestoneReached", "m-late", occurred_on="2025-01-01", milestone="in order"))
        assert later.record(fact("MilestoneReached", "m7", occurred_on="2024-01-01", milestone="step 7")).unchanged == 1
        with pytest.raises(DuplicateEventId, match="'m7' is already recorded with other content"):
            later.record(fact("MilestoneReached", "m7", occurred_on="2024-01-01", milestone="step seven"))
        with pytest.raises(ImpossibleTransition):
            later.record(fact("DocumentSigned", "late-signing", occurred_on="2024-06-01", instrument="agreement"))
        later.record(parse_line({"type": "EventRetracted", "event_id": "oops", "occurred_on": "2025-02-01",
                                 "retracts": "m3", "reason": "a rumour"}))
        with pytest.raises(ImpossibleTransition, match="'m3' was already retracted"):
            later.record(parse_line({"type": "EventRetracted", "event_id": "oops-2", "occurred_on": "2025-02-01",
                                     "retracts": "m3", "reason": "twice"}))
    finally:
        later.close()
    again = Tracker(tracker.store)
    try:
        assert [f.event_id for f in again.history("visa")][-3:] == ["m249", "m-late", "oops"]
        assert again.status("visa").events == 252  # m3 and its retraction no longer count
    finally:
        again.close()


def test_a_status_kept_in_a_snapshot_by_other_rules_is_folded_again_not_trusted(tmp_path):
    from tests.builders import long_history
    from tests.rows import edit_snapshot
    from tracker.config import resolve_store

    def folded_by_older_rules(snapshot):  # noqa: ANN001
        snapshot["status"]["implementation_status"] = "cancelled"  # final: nothing could follow it
        snapshot["rules"] = 0

    store = resolve_store(str(tmp_path / "events.db"), str(tmp_path / "views.db"))
    first = Tracker(store)
    long_history(first)
    first.close()
    edit_snapshot(store.location, folded_by_older_rules)
    later = Tracker(store)
    try:
        later.record(fact("MilestoneReached", "m-late", occurred_on="2025-01-01", milestone="in order"))
        assert later.status("visa").implementation_status == "in implementation"
    finally:
        later.close()


def test_trade_figures_and_meeting_counts_are_kept_side_by_side(tracker):
    meeting = line("MeetingHeld", "xian-held", meeting_id="xian", occurred_on="2023-05-17",
                   title="State visit", parties=[{"country": "KZ"}, {"country": "CN"}])
    count_a = line("DocumentsReported", "count-a", meeting_id="xian", occurred_on="2023-05-17", count=22)
    count_b = {**line("DocumentsReported", "count-b", meeting_id="xian", occurred_on="2023-05-18", count=47),
               "source": {"title": "Another outlet"}}
    tracker.record_many([parse_line(x) for x in (meeting, count_a, count_b)])
    assert [f.count for f in tracker.meeting("xian").facts[1:]] == [22, 47]


def test_one_event_id_used_for_two_commitments_in_one_import_is_refused_at_once(tracker):
    with pytest.raises(DuplicateEventId, match="'shared' is used twice: in commitment:visa and commitment:road"):
        tracker.record_many([parse_line({**registered("visa"), "event_id": "shared"}),
                             parse_line({**registered("road"), "event_id": "shared"})])
    assert tracker.recorder.max_notification_id() is None


def test_facts_read_back_from_the_store_give_the_very_lines_they_were_written_as(tracker):
    from importlib.resources import files

    from events import parse_line as parse

    demo = files("tracker.demo").joinpath("xian-2023-05-17.jsonl").read_text(encoding="utf-8").splitlines()
    written = tracker.record_many([parse(__import__("json").loads(text)) for text in demo])
    lines = {fact.event_id: fact.to_line() for _, fact in written.facts}
    later = Tracker(tracker.store)
    try:
        read_back = {fact.event_id: fact for _, fact in later.facts()}
    finally:
        later.close()
    assert len(read_back) == len(demo) == 31
    for event_id, stored in read_back.items():
        fresh = {"type": stored.type, **stored.model_dump(mode="json", exclude_none=True)}
        fresh["recorded_at"] = fresh.pop("recorded_at")
        assert stored.to_line() == fresh == lines[event_id]
        assert list(stored.to_line()) == list(fresh)


def test_the_notification_ids_of_a_write_are_those_its_records_were_stored_under(tracker):
    first = tracker.record_many([parse_line(registered("visa")), parse_line(registered("road"))])
    second = tracker.record_many([fact("DocumentSigned", "visa-signed", cid="visa", instrument="agreement"),
                                  fact("DocumentSigned", "road-signed", cid="road", instrument="agreement")])
    stored = tracker.recorder.select_notifications(start=None, limit=100)
    assert first.notification_ids + second.notification_ids == [n.id for n in stored]
    by_id = {n.id: (n.originator_id, n.originator_version) for n in stored}
    assert all(by_id[position] == (f.originator_id, f.originator_version) for position, f in first.facts + second.facts)


def test_claims_are_looked_up_many_at_a_time_and_only_those_recorded_are_found(tracker):
    from uuid import uuid4

    from events.aggregates import claim_id
    from tracker.persistence import first_records

    tracker.record_many([parse_line(registered("visa", binding=False))] + [
        fact("MilestoneReached", f"m{n}", occurred_on="2024-01-01", milestone=f"step {n}") for n in range(1_200)])
    wanted = [claim_id(f"m{n}") for n in range(1_200)] + [claim_id("never-recorded"), uuid4()]
    records = first_records(tracker.recorder, wanted, per_query=500)
    claims = [tracker.mapper.to_domain_event(r) for r in records]
    assert sorted(c.event_id for c in claims) == sorted(f"m{n}" for n in range(1_200))
    assert {c.stream for c in claims} == {"commitment:visa"}


def test_each_aggregate_is_read_back_from_the_store_as_the_kind_its_key_names(tracker):
    from events.aggregates import Commitment, IndicatorSeries, Meeting

    tracker.record_many([
        parse_line(line("MeetingHeld", "xian-held", meeting_id="xian", occurred_on="2023-05-17",
                        title="State visit", parties=[{"country": "KZ"}, {"country": "CN"}])),
        parse_line(registered("visa", meeting_id="xian")),
        parse_line(line("TradeFigureReported", "kz-exports-2023", occurred_on="2024-02-01", reporter="KZ",
                        partner="CN", flow="exports", period="2023", value="1000")),
    ])
    later = Tracker(tracker.store)  # nothing cached: read from the stored facts
    try:
        assert type(later.commitment("visa")) is Commitment
        assert type(later.meeting("xian")) is Meeting
        assert type(later.stream("indicator:trade:KZ-CN")) is IndicatorSeries
    finally:
        later.close()


def test_a_write_reports_each_commitment_it_touched_as_it_now_stands(tracker):
    tracker.record(parse_line(registered("visa")))
    written = tracker.record_many([fact("EnteredIntoForce", "in-force", occurred_on="2023-11-10"),
                                   fact("DocumentSigned", "visa-signed", instrument="agreement")])
    assert list(written.statuses) == ["visa"]
    assert written.statuses["visa"].legal_status == "in force"
    assert written.statuses["visa"].to_dict() == tracker.status("visa").to_dict()
