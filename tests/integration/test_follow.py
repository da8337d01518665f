"""tracker follow keeps a local read model live until interrupted, and resumes where it stopped."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tracker(store: str, views: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", "--db", store, "--views", str(views), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def timeline_ids(views: Path) -> set[str]:
    if not views.exists():
        return set()
    with sqlite3.connect(views) as db:
        try:
            return {r[0] for r in db.execute("SELECT event_id FROM timeline")}
        except sqlite3.OperationalError:
            return set()


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_follow_shows_new_events_live_and_resumes_after_an_interrupt(store_url, tmp_path):
    writer_views, follower_views = tmp_path / "writer.db", tmp_path / "follower.db"
    assert tracker(store_url, writer_views, "demo").returncode == 0
    follower = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", store_url, "--views", str(follower_views), "follow",
         "--interval", "0.1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: "xian-2023-visa-exemption-signed" in timeline_ids(follower_views))
        recorded = tracker(store_url, writer_views, "record", "entered-into-force", "--event-id", "visa-in-force",
                           "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-11-10",
                           "--source-title", "MFA")
        assert recorded.returncode == 0, recorded.stderr
        assert wait_for(lambda: "visa-in-force" in timeline_ids(follower_views))
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    assert "stopped at" in err.splitlines()[-1]
    tracker(store_url, writer_views, "record", "milestone-reached", "--event-id", "while-away",
            "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-12",
            "--milestone", "first visa-free arrivals", "--source-title", "MFA")
    resumed = tracker(store_url, follower_views, "follow", "--interval", "0.1", "--stop-after", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "caught up 1 new events" in resumed.stderr.splitlines()[0]
    assert "while-away" in timeline_ids(follower_views)
