"""tracker follow keeps a local read model live until interrupted, and resumes where it stopped."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

import pytest

from tests.conftest import postgres_url

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
    assert re.fullmatch(r"stopped with \d+ events in all", err.splitlines()[-1])
    tracker(store_url, writer_views, "record", "milestone-reached", "--event-id", "while-away",
            "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-12",
            "--milestone", "first visa-free arrivals", "--source-title", "MFA")
    resumed = tracker(store_url, follower_views, "follow", "--interval", "0.1", "--stop-after", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "caught up 1 new events" in resumed.stderr.splitlines()[0]
    assert "while-away" in timeline_ids(follower_views)


class ThrowawayServer:
    """A PostgreSQL server of the test's own, to kill and restart (never the shared one)."""

    def __init__(self) -> None:
        for attempt in range(3):  # a port found free can be taken before the server binds it
            self.env = {**os.environ, "TRACKER_PG_DIR": f"/tmp/tracker-follow-{uuid4().hex[:12]}",
                        "TRACKER_PG_PORT": str(free_port())}
            try:
                self.url = self.script("start").strip()
                return
            except AssertionError:
                shutil.rmtree(self.env["TRACKER_PG_DIR"], ignore_errors=True)
                if attempt == 2:
                    raise

    def script(self, command: str) -> str:
        done = subprocess.run([str(ROOT / "scripts" / "test-postgres"), command], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def kill(self) -> None:
        self.script("kill")

    def restart(self) -> None:
        self.script("restart")

    def remove(self) -> None:
        self.script("stop")
        shutil.rmtree(self.env["TRACKER_PG_DIR"], ignore_errors=True)


def free_port() -> int:
    for port in random.sample(range(55000, 56000), 1000):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 55000-55999")


@pytest.fixture
def throwaway_server():
    postgres_url()  # skipped without PostgreSQL, like every PostgreSQL test
    server = ThrowawayServer()
    yield server
    server.remove()


class Follower:
    """``tracker follow`` in the background, its stderr read line by line as it comes."""

    def __init__(self, store: str, views: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", store, "--views", str(views), "follow", "--interval", "0.1",
             *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stderr), daemon=True)
        self.reader.start()

    def said(self, words: str) -> bool:
        return any(words in line for line in list(self.lines))

    def finish(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return code


def test_follow_rides_out_the_store_going_away_and_resumes_from_where_it_was(throwaway_server, tmp_path):
    url, writer_views, follower_views = throwaway_server.url, tmp_path / "writer.db", tmp_path / "follower.db"
    assert tracker(url, writer_views, "demo").returncode == 0
    follower = Follower(url, follower_views)
    try:
        assert wait_for(lambda: "xian-2023-visa-exemption-signed" in timeline_ids(follower_views))
        throwaway_server.kill()
        assert wait_for(lambda: follower.said("lost the store ("), 60), follower.lines
        assert follower.process.poll() is None, follower.lines
        throwaway_server.restart()
        recorded = tracker(url, writer_views, "record", "milestone-reached", "--event-id", "while-away",
                           "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-12",
                           "--milestone", "first visa-free arrivals", "--source-title", "MFA")
        assert recorded.returncode == 0, recorded.stderr
        assert wait_for(lambda: "while-away" in timeline_ids(follower_views), 120), follower.lines
    finally:
        code = follower.finish()
    assert code == 0, follower.lines
    lost = next(line for line in follower.lines if "lost the store (" in line)
    assert re.fullmatch(r"lost the store \(.+\): retrying in 1 s\n", lost), lost
    assert any(line.startswith("back on ") for line in follower.lines), follower.lines
    assert follower.lines[-1].startswith("stopped with ")


def test_follow_gives_up_with_one_line_and_exit_6_when_the_store_stays_away(throwaway_server, tmp_path):
    url, views = throwaway_server.url, tmp_path / "views.db"
    assert tracker(url, tmp_path / "writer.db", "demo").returncode == 0
    follower = Follower(url, views, "--retry-for", "3")
    try:
        assert wait_for(lambda: follower.said("following "))
        throwaway_server.kill()
        code = follower.process.wait(timeout=180)
    finally:
        follower.finish()
    assert code == 6, follower.lines
    label, reached = url.replace("postgres@", ""), caught_up_to(follower)
    assert re.fullmatch(rf"tracker: error: lost the store {re.escape(label)} \(.+\) for [34] s: gave up with {reached} events in all\n",
                        follower.lines[-1]), follower.lines
    assert not any("Traceback" in line or "internal error" in line for line in follower.lines)


def test_follow_interrupted_while_the_store_is_away_stops_with_one_line_and_exit_6(throwaway_server, tmp_path):
    url, views = throwaway_server.url, tmp_path / "views.db"
    assert tracker(url, tmp_path / "writer.db", "demo").returncode == 0
    follower = Follower(url, views)
    try:
        assert wait_for(lambda: follower.said("following "))
        throwaway_server.kill()
        assert wait_for(lambda: follower.said("lost the store ("), 60), follower.lines
    finally:
        code = follower.finish()
    assert code == 6, follower.lines
    assert follower.lines[-1].startswith("tracker: error: lost the store "), follower.lines
    assert follower.lines[-1].endswith(f"interrupted with {caught_up_to(follower)} events in all\n"), follower.lines


def caught_up_to(follower: Follower) -> int:
    """How many events the follower said it had when it started."""
    return int(re.search(r"(\d+) events in all", follower.lines[0]).group(1))
