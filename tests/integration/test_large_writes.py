"""One write of tens of thousands of events into PostgreSQL: it finishes, whole, or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from bench.history import generate, write
from events import Fact
from tests.conftest import postgres_url
from tracker.application import Tracker
from tracker.config import resolve_store

ROOT = Path(__file__).resolve().parents[2]


def test_an_import_of_50000_events_into_postgresql_finishes_with_every_event_stored(tmp_path):
    url, views, history = postgres_url(), tmp_path / "views.db", tmp_path / "history.jsonl"
    lines = write(history, generate(50_000))
    try:
        # Before, one statement carried the whole import (one parameter of 11 MB, sent in
        # psycopg's pipeline mode): it hung in most runs, holding the events table's lock.
        done = subprocess.run([sys.executable, "-m", "tracker", "--db", url, "--views", str(views),
                               "import", str(history)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("the import of 50,000 events did not finish in 300 s")
    assert done.returncode == 0, done.stderr

    app = Tracker(resolve_store(url, str(views)))
    try:
        stored = app.recorder.select_notifications(start=None, limit=10 * lines)
        facts = [e for e in map(app.mapper.to_domain_event, stored) if isinstance(e, Fact)]
    finally:
        app.close()
    assert [n.id for n in stored] == list(range(1, len(stored) + 1))
    assert sorted(f.event_id for f in facts) == sorted(json.loads(t)["event_id"] for t in history.open())
    assert len(facts) == lines


def test_a_write_longer_than_one_statement_is_stored_whole_in_order_or_not_at_all(tmp_path):
    app = Tracker(resolve_store(postgres_url(), str(tmp_path / "views.db")))
    try:
        stream = uuid4()
        records = [StoredEvent(stream, v, "topic", b"x" * 2_000) for v in range(1, 2_501)]
        ids = app.recorder.insert_events(records)
        stored = app.recorder.select_events(stream)
        assert ids == list(range(1, 2_501))
        assert [s.originator_version for s in stored] == list(range(1, 2_501))

        # The last record of the next write clashes with one stored: none of it is kept.
        clashing = [StoredEvent(uuid4(), v, "topic", b"x" * 2_000) for v in range(1, 2_500)]
        with pytest.raises(IntegrityError):
            app.recorder.insert_events([*clashing, records[0]])
        assert app.recorder.max_notification_id() == 2_500
    finally:
        app.close()
