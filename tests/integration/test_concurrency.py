"""Many processes writing to the same commitment at once: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from events import parse_line
from tests.builders import registered
from tracker.verify import verify

PROCESSES = 8
EACH = 500
ROOT = Path(__file__).resolve().parents[2]


def test_eight_processes_recording_500_events_each_on_one_commitment_lose_nothing(tracker, store_url, tmp_path):
    tracker.record(parse_line(registered("visa", binding=False)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.workers.record_milestones", store_url, str(tmp_path / "views.db"),
             str(w), str(EACH)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for w in range(PROCESSES)
    ]
    outcomes = [(w.wait(timeout=1200), w.stdout.read(), w.stderr.read()) for w in workers]
    for code, _out, err in outcomes:
        assert code == 0, err[-2000:]
        assert "locked" not in err
    facts = tracker.history("visa")
    ids = [f.event_id for f in facts]
    assert len(ids) == 1 + PROCESSES * EACH
    assert len(set(ids)) == len(ids)
    assert [f.originator_version for f in facts] == list(range(1, len(ids) + 1))
    for w in range(PROCESSES):  # each worker's own events stay in the order it recorded them
        mine = [int(i.split("-")[1]) for i in ids if i.startswith(f"w{w}-")]
        assert mine == list(range(EACH))
    report = verify(tracker)
    assert report.ok, report.problems[:3]
    assert report.events == 1 + PROCESSES * EACH
