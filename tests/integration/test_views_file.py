"""The read-model file: only ever one the tracker made, never the store; one rebuild at a
time; a damaged one rebuilt from the events."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from projections.read import QUICK_CHECK_UP_TO
from projections.views_file import rebuilding
from tests.integration.test_crashes import ROOT, big_history
from tests.rows import fingerprint
from tests.views import dump
from tracker.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def tracker(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=ROOT, capture_output=True, text=True,
                          **options)


def someone_elses_database(path: Path) -> bytes:
    """A SQLite file of another program, with a meta table much like the read models' own."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        db.execute("CREATE TABLE timeline (day TEXT, entry TEXT)")
        db.execute("INSERT INTO timeline VALUES ('2024-01-01', 'dear diary')")
    db.close()
    return path.read_bytes()


LATE = {"type": "MilestoneReached", "event_id": "late", "occurred_on": "2024-01-01",
        "commitment_id": "xian-2023-visa-exemption", "milestone": "talks"}


@pytest.fixture
def demo_store(tmp_path: Path) -> str:
    store = str(tmp_path / "events.db")
    assert run("--db", store, "demo").exit_code == 0
    return store


# -- 1. only a file the tracker made --------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal", " (a link)"])
@pytest.mark.parametrize("command", [["rebuild"], ["status"], ["timeline"]])
def test_a_read_model_path_naming_the_store_is_refused_and_the_store_is_kept(demo_store, tmp_path, suffix, command):
    views = demo_store + suffix
    if suffix == " (a link)":
        os.symlink(demo_store, views)
    before = fingerprint(demo_store)
    result = run("--db", demo_store, "--views", views, *command)
    assert result.exit_code == 2
    assert result.stderr == (f"tracker: error: the read-model file {views} would overwrite the event store"
                             f" {demo_store}: name a file of its own with --views\n")
    assert fingerprint(demo_store) == before
    assert "31 events in 13 streams: intact" in run("--db", demo_store, "verify").stderr


@pytest.mark.parametrize("command", [["status"], ["rebuild"], ["import", "late.jsonl"], ["record", "milestone-reached",
                                     "--commitment-id", "xian-2023-cultural-centres", "--occurred-on", "2024-01",
                                     "--milestone", "first centre opened", "--source-title", "MFA"]])
def test_a_read_model_file_named_as_the_store_is_refused_and_left_byte_for_byte(demo_store, tmp_path, command):
    views = tmp_path / "events.views.db"
    (tmp_path / "late.jsonl").write_text(json.dumps(LATE) + "\n")
    before = views.read_bytes()
    result = run("--db", str(views), *[str(tmp_path / a) if a.endswith(".jsonl") else a for a in command])
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (f"tracker: error: {views} is a read-model file, not an event store: name the store"
                             " with --db (its read models are found beside it)\n")
    assert views.read_bytes() == before
    assert not (tmp_path / "events.views.views.db").exists()


@pytest.mark.parametrize("command", [["rebuild"], ["status"], ["parties"], ["import", "late.jsonl"]])
def test_someone_elses_sqlite_file_named_as_read_models_is_left_byte_for_byte(store_url, tmp_path, command):
    assert run("--db", store_url, "demo").exit_code == 0
    (tmp_path / "late.jsonl").write_text(json.dumps(LATE) + "\n")
    stored = fingerprint(store_url)
    other = tmp_path / "other.db"
    before = someone_elses_database(other)
    result = run("--db", store_url, "--views", str(other), *[str(tmp_path / a) if a.endswith(".jsonl") else a
                                                             for a in command])
    assert result.exit_code == 2
    assert result.stderr == (f"tracker: error: {other} is not a read-model file of this tracker"
                             " (a SQLite database with other tables): name another file with --views\n")
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("other")) == ["other.db"]
    assert fingerprint(store_url) == stored


def test_a_file_that_is_not_a_database_named_as_read_models_is_left_byte_for_byte(demo_store, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(os.urandom(20_000))
    before = notes.read_bytes()
    for command in (["rebuild"], ["status"]):
        result = run("--db", demo_store, "--views", str(notes), *command)
        assert result.exit_code == 2
        assert result.stderr == (f"tracker: error: {notes} is not a read-model file of this tracker (not even"
                                 " a SQLite database): name another file with --views, or remove it if it held"
                                 " read models\n")
    assert notes.read_bytes() == before


def test_read_models_made_before_the_marker_are_still_recognised_and_used(demo_store, tmp_path):
    views = tmp_path / "old.views.db"
    assert run("--db", demo_store, "--views", str(views), "status").exit_code == 0
    with sqlite3.connect(views) as db:  # as 0.5.x left them: no application id in the header
        db.execute("PRAGMA application_id = 0")
    db.close()
    (tmp_path / "late.jsonl").write_text(json.dumps(LATE) + "\n")
    result = run("--db", demo_store, "--views", str(views), "import", str(tmp_path / "late.jsonl"))
    assert result.exit_code == 0, result.stderr
    timeline = run("--db", demo_store, "--views", str(views), "timeline", "--json")
    assert len(json.loads(timeline.stdout)) == 32
    assert run("--db", demo_store, "--views", str(views), "rebuild").exit_code == 0


# -- 2. one rebuild at a time ---------------------------------------------------------------


@pytest.fixture
def big_store(tmp_path: Path) -> str:
    store = str(tmp_path / "big.db")
    done = tracker("--db", store, "import", str(big_history(tmp_path / "h.jsonl", "b")))
    assert done.returncode == 0, done.stderr
    return store


def test_two_rebuilds_at_once_both_finish_and_leave_complete_read_models(big_store, tmp_path):
    views = Path(big_store).with_name("big.views.db")
    complete = dump(views)
    rebuilds = [subprocess.Popen([sys.executable, "-m", "tracker", "--db", big_store, "rebuild"], cwd=ROOT,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for process in rebuilds:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    assert dump(views) == complete
    status = tracker("--db", big_store, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)) == 20
    assert not [p.name for p in tmp_path.iterdir() if ".rebuilding" in p.name]


def test_a_rebuild_waits_for_the_one_under_way_and_says_so(demo_store, tmp_path):
    views = tmp_path / "events.views.db"
    with rebuilding(views):
        waiting = subprocess.Popen([sys.executable, "-m", "tracker", "--db", demo_store, "rebuild"], cwd=ROOT,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None
    assert waiting.wait(timeout=60) == 0
    assert waiting.stderr.read().splitlines() == [f"waiting for another rebuild of {views} to finish",
                                                  "rebuilt the read models from 31 events"]


def test_a_rebuild_into_a_folder_not_made_yet_makes_it(demo_store, tmp_path):
    views = tmp_path / "new" / "folder" / "views.db"
    result = run("--db", demo_store, "--views", str(views), "rebuild")
    assert result.exit_code == 0, result.stderr
    assert len(dump(views)["commitments"]) == 10


def test_the_leftovers_of_killed_rebuilds_are_removed_by_the_next(demo_store, tmp_path):
    leftovers = [tmp_path / name for name in ("events.views.db.rebuilding", "events.views.db.rebuilding-wal",
                                              "events.views.db.rebuilding-k2j4h1", "events.views.db.rebuilding-k2j4h1-shm")]
    for leftover in leftovers:
        leftover.write_bytes(b"half a rebuild")
    assert run("--db", demo_store, "rebuild").exit_code == 0
    assert not [leftover for leftover in leftovers if leftover.exists()]


REBUILD_WITH_TWO_WORKERS = """
import sys
from pathlib import Path
from projections.rebuild import rebuild
from tracker.application import Tracker
from tracker.config import resolve_store
store = resolve_store(sys.argv[1], sys.argv[2])
rebuild(Tracker(store), store.views, workers=2)
"""


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table in /proc")
def test_a_rebuild_killed_mid_way_leaves_no_worker_process_behind(store_url, tmp_path):
    done = tracker("--db", store_url, "--views", str(tmp_path / "views.db"), "import",
                   str(big_history(tmp_path / "h.jsonl", "w")))
    assert done.returncode == 0, done.stderr
    for attempt in range(3):
        writer = subprocess.Popen([sys.executable, "-c", REBUILD_WITH_TWO_WORKERS, store_url,
                                   str(tmp_path / "views.db")], cwd=ROOT, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while len(workers := children(writer.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(workers) >= 2
        time.sleep(0.2 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], f"attempt {attempt}: workers left running"


# -- 3. a damaged read-model file ------------------------------------------------------------


def test_read_models_of_random_bytes_beside_the_store_are_rebuilt_from_the_events(demo_store, tmp_path):
    views = tmp_path / "events.views.db"
    for name in (f"{views}-wal", f"{views}-shm"):
        Path(name).unlink(missing_ok=True)
    views.write_bytes(os.urandom(200_000))
    result = run("--db", demo_store, "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"the read model file {views} was damaged; rebuilding it from the events\n".replace(
        "read model", "read-model")
    assert len(json.loads(result.stdout)) == 10


@pytest.mark.parametrize("command", ["status", "timeline", "parties"])
def test_garbage_written_inside_the_read_models_is_noticed_and_they_are_rebuilt(demo_store, tmp_path, command):
    views = tmp_path / "mine.db"
    expected = run("--db", demo_store, "--views", str(views), command, "--json").stdout
    size = views.stat().st_size
    assert size < QUICK_CHECK_UP_TO
    with open(views, "r+b") as file:
        file.seek(size // 2 // 4096 * 4096)
        file.write(bytes(range(256)) * 32)  # 8 KB
    result = run("--db", demo_store, "--views", str(views), command, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"the read-model file {views} was damaged; rebuilding it from the events\n"
    assert result.stdout == expected


def test_read_models_whose_header_is_destroyed_are_ours_by_their_marker_and_rebuilt(demo_store, tmp_path):
    views = tmp_path / "mine.db"
    assert run("--db", demo_store, "--views", str(views), "status").exit_code == 0
    with open(views, "r+b") as file:
        file.write(b"\xff" * 16)
    result = run("--db", demo_store, "--views", str(views), "timeline", "--json")
    assert result.exit_code == 0, result.stderr
    assert "was damaged; rebuilding it from the events" in result.stderr
    assert len(json.loads(result.stdout)) == 31


def no_room_to_grow() -> None:
    """In the child: no file may grow, as on a full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_read_that_cannot_catch_up_on_a_full_disk_shows_the_board_as_it_was_with_a_warning(demo_store, tmp_path):
    files = [tmp_path / name for name in ("events.views.db", "events.views.db-wal", "events.views.db-shm")]
    behind = {file: file.read_bytes() for file in files if file.exists()}
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps(LATE) + "\n")
    assert tracker("--db", demo_store, "import", str(late)).returncode == 0
    for file in files:  # the read models as they were before the last import
        file.unlink(missing_ok=True)
        if file in behind:
            file.write_bytes(behind[file])
    reader = sqlite3.connect(files[0])  # another reader keeps the shared-memory file (a full disk cannot make one)
    reader.execute("SELECT * FROM positions").fetchall()
    try:
        result = tracker("--db", demo_store, "status", "--json", preexec_fn=no_room_to_grow)
    finally:
        reader.close()
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("tracker: warning: the read models could not be brought up to date (")
    assert result.stderr.endswith("); what follows may be stale\n")
    assert len(json.loads(result.stdout)) == 10


def test_a_read_that_cannot_write_read_models_never_built_on_a_full_disk_says_so(demo_store, tmp_path):
    views = tmp_path / "new.views.db"
    result = tracker("--db", demo_store, "--views", str(views), "status", preexec_fn=no_room_to_grow)
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith(f"tracker: error: cannot write the read-model file {views} (")
    assert result.stderr.endswith("): free some space or allow writing there, then run the command again\n")


def test_read_models_in_a_folder_whose_name_holds_a_question_mark_or_a_hash_are_read_from_there(demo_store, tmp_path):
    views = tmp_path / "why?#not" / "views.db"
    views.parent.mkdir()
    result = run("--db", demo_store, "--views", str(views), "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 10
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("why")) == ["why?#not"]


def test_an_import_into_a_store_with_read_models_leaves_no_write_ahead_log_to_index_on_every_read(tmp_path):
    """A read connection left open past the writer kept the log from being folded back into
    the read-model file: after a 100,000-event import every later read indexed 59 MB of log."""
    from bench.history import generate, write

    history = list(generate(1000, commitments=4, clean=True))
    for n, part in enumerate((history[:500], history[500:])):
        write(tmp_path / f"part{n}.jsonl", iter(part))
        assert tracker("--db", str(tmp_path / "events.db"), "import", str(tmp_path / f"part{n}.jsonl")).returncode == 0
    log = tmp_path / "events.views.db-wal"
    assert not log.exists() or log.stat().st_size == 0
