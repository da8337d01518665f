"""Processes killed with SIGKILL mid-import and mid-rebuild lose nothing and leave nothing half-done."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from projections.rebuild import rebuild
from tests.rows import stored_facts
from tests.views import dump
from tracker.application import Tracker
from tracker.config import resolve_store

ROOT = Path(__file__).resolve().parents[2]
KILLS = 8
EVENTS = 6000


def big_history(path: Path, tag: str) -> Path:
    with path.open("w") as out:
        for c in range(20):
            cid = f"{tag}-c{c}"
            out.write(json.dumps({"type": "CommitmentRegistered", "event_id": f"{cid}-reg", "commitment_id": cid,
                                  "occurred_on": "2023-05-17", "kind": "agreement", "title": f"Agreement {cid}",
                                  "binding": False, "parties": [{"country": "KZ"}, {"country": "CN"}],
                                  "source": {"title": "crash test"}}) + "\n")
            for n in range(EVENTS // 20 - 1):
                out.write(json.dumps({"type": "MilestoneReached", "event_id": f"{cid}-m{n}", "commitment_id": cid,
                                      "occurred_on": f"2024-{n % 12 + 1:02d}", "milestone": f"step {n}",
                                      "source": {"title": "crash test"}}) + "\n")
    return path


def tracker_process(store: str, views: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tracker", "--db", store, "--views", str(views), *args],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_imports_killed_at_random_moments_are_whole_or_absent_and_views_recover(store_url, tmp_path):
    rnd = random.Random(20230517)
    views = tmp_path / "views.db"
    expected = 0
    outcomes = []
    for attempt in range(KILLS):
        history = big_history(tmp_path / f"h{attempt}.jsonl", f"k{attempt}")
        process = tracker_process(store_url, views, "import", str(history))
        time.sleep(rnd.uniform(0.4, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored = len(stored_facts(store_url))  # the first may be killed before the store is made
        assert stored in (expected, expected + EVENTS), f"partial import: {stored - expected} of {EVENTS}"
        outcomes.append("whole" if stored > expected else "none")
        expected = stored
        recovered = subprocess.run([sys.executable, "-m", "tracker", "--db", store_url, "--views", str(views),
                                    "status", "--json"], cwd=ROOT, capture_output=True, text=True)
        assert recovered.returncode == 0, recovered.stderr
        app = Tracker(resolve_store(store_url, str(tmp_path / "unused.db")))
        rebuild(app, tmp_path / "fresh.db")
        app.close()
        assert dump(views) == dump(tmp_path / "fresh.db")
    print("import outcomes:", outcomes)  # which kills landed mid-import varies with the machine


def test_rebuilds_killed_at_random_moments_leave_the_old_or_the_new_tables(store_url, tmp_path):
    rnd = random.Random(17)
    views = tmp_path / "views.db"
    history = big_history(tmp_path / "h.jsonl", "r")
    done = subprocess.run([sys.executable, "-m", "tracker", "--db", store_url, "--views", str(views),
                           "import", str(history)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    complete = dump(views)
    for _ in range(KILLS):
        process = tracker_process(store_url, views, "rebuild")
        time.sleep(rnd.uniform(0.3, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert dump(views) == complete
