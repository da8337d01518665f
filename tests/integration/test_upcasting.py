"""A store written by an older version still loads: old events are upcast on the way in."""

import shutil
from pathlib import Path

from tests.builders import fact
from tracker.application import Tracker
from tracker.config import resolve_store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "v1-store.db"


def test_a_v1_registration_with_country_codes_loads_with_parties(tmp_path):
    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    app = Tracker(resolve_store(str(store), str(tmp_path / "views.db")))
    [registered] = app.history("visa")
    assert [p.country for p in registered.parties] == ["KZ", "CN"]
    assert registered.title == "Mutual exemption from visa requirements"
    app.record(fact("DocumentSigned", "visa-signed", instrument="agreement"))
    assert app.status("visa").legal_status == "signed"


def test_the_stored_v1_bytes_are_left_as_they_were(tmp_path):
    import sqlite3

    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    Tracker(resolve_store(str(store), str(tmp_path / "views.db"))).history("visa")
    state = sqlite3.connect(store).execute("SELECT state FROM stored_events WHERE originator_version = 1"
                                           " AND topic LIKE '%CommitmentRegistered'").fetchone()[0]
    assert b'"party_codes":["KZ","CN"]' in state


def _long_history_with_its_snapshot_edited(tmp_path, edit):  # noqa: ANN001
    """A commitment of 251 facts, its snapshot (taken at 251) changed by ``edit`` as an
    older version would have written it, and a tracker that must read it back."""
    from tests.builders import long_history
    from tests.rows import edit_snapshot

    store = resolve_store(str(tmp_path / "events.db"), str(tmp_path / "views.db"))
    first = Tracker(store)
    long_history(first)
    first.close()
    edit_snapshot(store.location, edit)
    return Tracker(store)


def test_a_snapshot_from_before_lines_said_their_class_version_reads_as_it_was_written(tmp_path):
    def as_version_1_wrote_it(snapshot):  # noqa: ANN001
        assert snapshot.pop("class_version") == 2
        assert snapshot["facts"][0].pop("class_version") == 2
        assert all("class_version" not in line for line in snapshot["facts"])

    later = _long_history_with_its_snapshot_edited(tmp_path, as_version_1_wrote_it)
    try:
        history = later.history("visa")
        assert [p.country for p in history[0].parties] == ["KZ", "CN"]
        assert [f.event_id for f in history][-2:] == ["m248", "m249"] and len(history) == 251
    finally:
        later.close()


def test_a_snapshot_line_written_before_its_class_changed_is_upcast_like_a_stored_fact(tmp_path):
    def registration_as_its_version_1(snapshot):  # noqa: ANN001
        line = snapshot["facts"][0]
        line["class_version"] = 1
        line["party_codes"] = [party["country"] for party in line.pop("parties")]

    later = _long_history_with_its_snapshot_edited(tmp_path, registration_as_its_version_1)
    try:
        assert [p.country for p in later.history("visa")[0].parties] == ["KZ", "CN"]
        later.record(fact("MilestoneReached", "m-late", occurred_on="2025-01-01", milestone="in order"))
        assert later.status("visa").events == 252
    finally:
        later.close()
