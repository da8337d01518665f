"""Nothing lost, nothing doubled, nothing mixed: a record says what it stored, waits aloud,
and is safe to repeat, whatever happens around its commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from tests.rows import fact_rows, is_postgres
from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

REGISTER = ["record", "commitment-registered", "--commitment-id", "visa", "--occurred-on", "2023-05-17",
            "--kind", "agreement", "--title", "Visa exemption", "--not-binding", "--party", "KZ", "--party", "CN",
            "--source-title", "Akorda"]
MILESTONE = ["record", "milestone-reached", "--commitment-id", "visa", "--occurred-on", "2024-01",
             "--milestone", "first visitors", "--source-title", "Akorda"]


def run(*args: str):
    return runner.invoke(app, list(args))


def stderr_lines(result) -> list[str]:
    return result.stderr.strip().splitlines()


@pytest.fixture
def views(tmp_path: Path) -> Path:
    return tmp_path / "views.db"


@pytest.fixture
def tracker_cli(store_url: str, views: Path):
    def tracker(*args: str):
        return run("--db", store_url, "--views", str(views), *args)
    return tracker


def history(path: Path, milestones: int) -> Path:
    with path.open("w") as out:
        out.write(json.dumps({"type": "CommitmentRegistered", "event_id": "visa-reg", "commitment_id": "visa",
                              "occurred_on": "2023-05-17", "kind": "agreement", "title": "Visa exemption",
                              "binding": False, "parties": [{"country": "KZ"}, {"country": "CN"}],
                              "source": {"title": "Akorda"}}) + "\n")
        for n in range(milestones):
            out.write(json.dumps({"type": "MilestoneReached", "event_id": f"visa-m{n}", "commitment_id": "visa",
                                  "occurred_on": f"2024-{n % 12 + 1:02d}", "milestone": f"step {n} " + "x" * 200,
                                  "source": {"title": "Akorda"}}) + "\n")
    return path


HOLD_SQLITE = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""

HOLD_POSTGRES = """
import psycopg, sys, time
url, schema = sys.argv[1].split("?")[0], sys.argv[3]
conn = psycopg.connect(url)
conn.execute(f"LOCK TABLE {schema}.tracker_events IN EXCLUSIVE MODE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held(target: str | Path, seconds: float) -> Iterator[None]:
    """Another process writing to this store or read-model file for ``seconds`` (or until the end)."""
    target = str(target)
    if is_postgres(target):
        schema = parse_qs(urlsplit(target).query)["schema"][0]
        args = [sys.executable, "-c", HOLD_POSTGRES, target, str(seconds), schema]
    else:
        args = [sys.executable, "-c", HOLD_SQLITE, target, str(seconds)]
    holder = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


# -- 1. a fact stored twice ------------------------------------------------------------


def test_recording_the_same_fact_twice_without_an_id_stores_it_once(tracker_cli, store_url):
    assert tracker_cli(*REGISTER).exit_code == 0
    first = tracker_cli(*MILESTONE)
    again = tracker_cli(*MILESTONE)
    assert first.exit_code == again.exit_code == 0, again.stderr
    assert first.stdout == again.stdout
    assert first.stdout.startswith("milestone-reached-")
    assert stderr_lines(again) == ["already recorded, nothing changed"]
    assert len(fact_rows(store_url)) == 2


def test_the_id_made_for_a_fact_depends_on_what_it_says(tracker_cli):
    assert tracker_cli(*REGISTER).exit_code == 0
    first = tracker_cli(*MILESTONE)
    other = tracker_cli(*MILESTONE[:-4], "--milestone", "second visitors", "--source-title", "Akorda")
    assert other.exit_code == 0, other.stderr
    assert first.stdout != other.stdout


# -- 3. waits are said, and bounded -------------------------------------------------------


def test_a_record_waits_aloud_for_another_process_writing_to_the_store(tracker_cli, store_url):
    assert tracker_cli(*REGISTER).exit_code == 0
    with held(store_url, 3):
        started = time.monotonic()
        result = tracker_cli(*MILESTONE)
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started > 1.5
    timeout = 30 if is_postgres(store_url) else 60
    assert stderr_lines(result)[0] == \
        f"tracker: waiting for another process writing to the store (up to {timeout} s)..."
    assert stderr_lines(result)[-1].startswith("recorded MilestoneReached")
    assert len(fact_rows(store_url)) == 2


def test_a_record_that_waits_too_long_for_the_store_fails_in_one_line_and_writes_nothing(
        tracker_cli, store_url, monkeypatch):
    assert tracker_cli(*REGISTER).exit_code == 0
    monkeypatch.setattr("tracker.config.SQLITE_LOCK_TIMEOUT", 2, raising=False)
    monkeypatch.setattr("tracker.config.POSTGRES_LOCK_TIMEOUT", 2, raising=False)
    with held(store_url, 60):
        result = tracker_cli(*MILESTONE)
    assert result.exit_code == 6
    assert stderr_lines(result) == [
        "tracker: waiting for another process writing to the store (up to 2 s)...",
        "tracker: error: another process kept the store locked for 2 s; nothing was written"
        " (try again when it is done)",
    ]
    assert len(fact_rows(store_url)) == 1


def test_a_record_waits_aloud_for_another_process_writing_to_the_read_models(tracker_cli, store_url, views):
    assert tracker_cli(*REGISTER).exit_code == 0
    with held(views, 3):
        result = tracker_cli(*MILESTONE)
    assert result.exit_code == 0, result.stderr
    assert stderr_lines(result)[0] == \
        "tracker: waiting for another process writing to the read models (up to 60 s)..."
    assert "warning" not in result.stderr
    assert "first visitors" in tracker_cli("history", "visa").stdout


def test_a_record_whose_read_models_stay_locked_is_recorded_and_warns_that_they_lag(
        tracker_cli, store_url, views, monkeypatch):
    assert tracker_cli(*REGISTER).exit_code == 0
    monkeypatch.setattr("tracker.config.SQLITE_LOCK_TIMEOUT", 2, raising=False)
    with held(views, 60):
        result = tracker_cli(*MILESTONE)
    assert result.exit_code == 0, result.stderr
    event_id = result.stdout.strip()
    assert stderr_lines(result) == [
        "tracker: waiting for another process writing to the read models (up to 2 s)...",
        "tracker: warning: the read models lag behind the store (another process kept the read models"
        " locked for 2 s): the next command catches them up, or run 'tracker rebuild'",
        f"recorded MilestoneReached {event_id}",
    ]
    assert len(fact_rows(store_url)) == 2
    again = tracker_cli(*MILESTONE)  # the retry a user would make changes nothing
    assert stderr_lines(again) == ["already recorded, nothing changed"]
    assert len(fact_rows(store_url)) == 2
    assert "first visitors" in tracker_cli("history", "visa").stdout


# -- 2. a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem of 2 MB, made and removed by this test."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Leave no more than ``leave`` bytes free on the disk."""
    with (disk / "filler").open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 4096):
                pass
        except OSError:
            pass
        out.truncate(max(0, out.tell() - leave))


def test_an_import_whose_read_models_fill_the_disk_is_recorded_and_warns(store_url, tmp_path, small_disk):
    views = small_disk / "views.db"
    lines = history(tmp_path / "h.jsonl", 599)
    other = ["other" if word == "visa" else word for word in REGISTER]
    assert run("--db", store_url, "--views", str(views), *other).exit_code == 0
    fill(small_disk)
    result = run("--db", store_url, "--views", str(views), "import", str(lines))
    assert result.exit_code == 0, result.stderr
    warning, imported = stderr_lines(result)
    assert warning.startswith("tracker: warning: the read models lag behind the store (")  # disk full or I/O error
    assert warning.endswith("): the next command catches them up, or run 'tracker rebuild'")
    assert imported == "imported 600 new events, 0 already recorded"
    assert len(fact_rows(store_url)) == 601
    (small_disk / "filler").unlink()
    shown = run("--db", store_url, "--views", str(views), "history", "visa", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert len(json.loads(shown.stdout)) == 600


def test_a_store_on_a_full_disk_refuses_in_one_line_and_writes_nothing(tmp_path, small_disk):
    store_file = small_disk / "events.db"
    views = tmp_path / "views.db"
    other = ["other" if word == "visa" else word for word in REGISTER]
    assert run("--db", str(store_file), "--views", str(views), *other).exit_code == 0
    fill(small_disk, leave=64 * 1024)  # enough to open the store, not to save 600 events
    result = run("--db", str(store_file), "--views", str(views), "import", str(history(tmp_path / "h.jsonl", 599)))
    assert result.exit_code == 6
    assert stderr_lines(result) == [
        f"tracker: error: cannot write to the store {store_file}: database or disk is full; nothing was written"]
    (small_disk / "filler").unlink()
    assert len(fact_rows(str(store_file))) == 1


# -- 2 and 4. a PostgreSQL server killed around a commit -------------------------------------


class Server:
    """A PostgreSQL server of this test's own, which it may kill."""

    def __init__(self, directory: Path, port: int):
        self.env = {**os.environ, "TRACKER_PG_DIR": str(directory), "TRACKER_PG_PORT": str(port)}
        self.directory, self.port = directory, port

    def start(self) -> str:
        made = subprocess.run([str(ROOT / "scripts" / "test-postgres"), "start"], env=self.env,
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise RuntimeError(f"cannot start a PostgreSQL server: {made.stderr.strip()}")
        return made.stdout.strip()

    def pg_ctl(self, *args: str) -> None:
        pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        command = [str(pgbin / "pg_ctl"), "-D", str(self.directory / "data"), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def kill(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")

    def restart(self) -> None:
        self.pg_ctl("-w", "-l", str(self.directory / "server.log"), "-o",
                    f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "test-postgres"), "stop"], env=self.env, capture_output=True)


def free_port() -> int:
    """A port between 55000 and 55999 that nothing is bound to now."""
    import random
    import socket

    for port in random.sample(range(55000, 56000), 1000):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port between 55000 and 55999")


@pytest.fixture
def server() -> Iterator[Server]:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("no PostgreSQL server installed")
    for _ in range(5):  # a port found free may be taken by another process before the server binds it
        port = free_port()
        own = Server(Path(f"/tmp/tracker-record-safety-{os.getpid()}-{port}"), port)
        try:
            own.url = own.start()
            break
        except RuntimeError:
            shutil.rmtree(own.directory, ignore_errors=True)
    else:
        pytest.fail("cannot start a PostgreSQL server on any of five free ports")
    try:
        yield own
    finally:
        own.stop()


def kill_after_save(monkeypatch, server: Server, saves_before_kill: int, *, after: bool) -> None:
    """Kill the server right after (or right before) the given save reaches it."""
    from tracker.application import Tracker

    save = Tracker.save
    count = {"saves": 0}

    def save_then_kill(self, *args, **kwargs):
        count["saves"] += 1
        if count["saves"] == saves_before_kill and not after:
            server.kill()
        done = save(self, *args, **kwargs)
        if count["saves"] == saves_before_kill and after:
            server.kill()
        return done

    monkeypatch.setattr(Tracker, "save", save_then_kill)


def kill_after_import_writes(monkeypatch, server: Server, *, after: bool) -> None:
    """Kill the server right after (or right before) an import's one write transaction."""
    from tracker.application import Tracker

    write_records = Tracker.write_records

    def write_then_kill(self, *args, **kwargs):
        if not after:
            server.kill()
        done = write_records(self, *args, **kwargs)
        if after:
            server.kill()
        return done

    monkeypatch.setattr(Tracker, "write_records", write_then_kill)


def test_a_server_killed_right_after_an_import_commits_is_told_as_recorded(server, tmp_path, monkeypatch):
    lines = history(tmp_path / "h.jsonl", 4999)
    kill_after_import_writes(monkeypatch, server, after=True)
    started = time.monotonic()
    result = run("--db", server.url, "--views", str(tmp_path / "views.db"), "import", str(lines))
    took = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert stderr_lines(result)[-1] == "imported 5000 new events, 0 already recorded"
    warning = stderr_lines(result)[0]  # what the driver says of the lost connection varies with timing
    assert warning.startswith("tracker: warning: the read models lag behind the store (")
    assert warning.endswith("): the next command catches them up, or run 'tracker rebuild'")
    assert took < 15
    server.restart()
    assert len(fact_rows(server.url + "?schema=public")) == 5000


def test_a_server_killed_during_a_chunk_of_an_import_is_told_promptly_and_exactly(server, tmp_path, monkeypatch):
    lines = history(tmp_path / "h.jsonl", 5999)
    kill_after_save(monkeypatch, server, 3, after=False)
    started = time.monotonic()
    result = run("--db", server.url, "--views", str(tmp_path / "views.db"), "import", "--chunk", "2000", str(lines))
    took = time.monotonic() - started
    assert result.exit_code == 6
    [line] = stderr_lines(result)
    assert line.startswith("tracker: error: h.jsonl: lines 4001 to 6000 may or may not be recorded: lost the store"
                           f" postgresql://127.0.0.1:{server.port}/tracker_test while saving (")
    assert line.endswith("); lines 1 to 4000 are recorded; importing the file again is safe (what is recorded is"
                         " skipped)")
    assert took < 15
    server.restart()
    assert len(fact_rows(server.url + "?schema=public")) == 4000
    again = run("--db", server.url, "--views", str(tmp_path / "views.db"), "import", "--chunk", "2000", str(lines))
    assert again.exit_code == 0, again.stderr
    assert stderr_lines(again) == ["imported 2000 new events, 4000 already recorded"]


def test_a_server_killed_after_a_chunk_commits_is_told_as_recorded(server, tmp_path, monkeypatch):
    lines = history(tmp_path / "h.jsonl", 5999)
    kill_after_save(monkeypatch, server, 2, after=True)
    result = run("--db", server.url, "--views", str(tmp_path / "views.db"), "import", "--chunk", "2000", str(lines))
    assert result.exit_code == 6
    assert stderr_lines(result)[-1].endswith(
        "; nothing was written; lines 1 to 4000 are recorded (import the file again when the store answers:"
        " what is recorded is skipped)")
    server.restart()
    assert len(fact_rows(server.url + "?schema=public")) == 4000
