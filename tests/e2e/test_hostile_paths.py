"""Paths and keys that name the wrong thing: refused in one line, and nothing written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.rows import fingerprint
from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    store = tmp_path / "events.db"
    assert run("--db", str(store), "demo").exit_code == 0
    return store


@pytest.mark.parametrize("target", ["events.db", "events.db-wal", "events.views.db", "events.views.db-shm"])
@pytest.mark.parametrize("command", [["export"], ["report", "--html"]])
def test_an_export_or_a_report_named_as_the_store_or_its_read_models_is_refused(demo, tmp_path, target, command):
    before = fingerprint(str(demo))
    result = run("--db", str(demo), *command, str(tmp_path / target))
    assert result.exit_code == 2, result.stderr
    kept = "events.db" if target.startswith("events.db") else "events.views.db"
    assert result.stderr == f"tracker: error: {tmp_path / target} would overwrite {tmp_path / kept}: name another file\n"
    assert fingerprint(str(demo)) == before
    assert "31 events in 13 streams: intact" in run("--db", str(demo), "verify").stderr


def test_someone_elses_sqlite_file_named_as_the_store_is_left_byte_for_byte(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    before = other.read_bytes()
    result = run("--db", str(other), "demo")
    assert result.exit_code == 2
    assert result.stderr == (f"tracker: error: {other} is not an event store of this tracker (a SQLite database"
                             " with other tables): name another file with --db\n")
    assert other.read_bytes() == before


def test_a_fifo_as_read_models_is_refused_at_once_instead_of_hanging(demo, tmp_path):
    fifo = tmp_path / "views.fifo"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "tracker", "--db", str(demo), "--views", str(fifo), "status"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"tracker: error: the read-model file {fifo} is not a regular file: name a file\n"


def test_a_folder_as_the_store_is_refused(tmp_path):
    (tmp_path / "store.db").mkdir()
    result = run("--db", str(tmp_path / "store.db"), "status")
    assert result.exit_code == 2
    assert result.stderr == f"tracker: error: the store {tmp_path / 'store.db'} is a folder: name a file\n"


@pytest.mark.parametrize("db, message", [
    ("", "--db is empty: name a SQLite file or a postgresql:// URL"),
    ("file:/tmp/x.db?mode=ro", "--db 'file:/tmp/x.db?mode=ro': give a SQLite file's path or a postgresql:// URL"),
    ("sqlite:///x.db", "--db 'sqlite:///x.db': give a SQLite file's path or a postgresql:// URL"),
])
def test_a_store_named_by_nothing_or_by_a_uri_the_tracker_does_not_speak_is_refused(tmp_path, monkeypatch, db,
                                                                                   message):
    monkeypatch.chdir(tmp_path)
    result = run("--db", db, "status")
    assert result.exit_code == 2
    assert result.stderr == f"tracker: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_store_behind_a_dangling_link_says_it_cannot_be_opened_and_what_to_do(tmp_path):
    (tmp_path / "store.db").symlink_to(tmp_path / "nowhere" / "store.db")
    result = run("--db", str(tmp_path / "store.db"), "demo")
    assert result.exit_code == 6
    assert result.stderr.startswith(f"tracker: error: cannot open the store {tmp_path / 'store.db'}: ")
    assert result.stderr.endswith("allow writing there, or name another store with --db or $TRACKER_DB\n")


def test_reading_the_board_of_an_encrypted_store_takes_its_key_like_every_other_command(tmp_path):
    key, other = run("keygen").stdout.strip(), run("keygen").stdout.strip()
    store = str(tmp_path / "secret.db")
    assert run("--db", store, "demo", env={"TRACKER_CIPHER_KEY": key}).exit_code == 0
    assert run("--db", store, "status", env={"TRACKER_CIPHER_KEY": key}).exit_code == 0  # read models up to date
    for command in (["status"], ["history", "xian-2023-visa-exemption"], ["meetings"], ["timeline"]):
        wrong = run("--db", store, *command, env={"TRACKER_CIPHER_KEY": other})
        assert (wrong.exit_code, wrong.stderr) == (6, "tracker: error: TRACKER_CIPHER_KEY is not this store's key\n")
        missing = run("--db", store, *command)
        assert (missing.exit_code, missing.stderr) == (
            6, "tracker: error: this store is encrypted: set TRACKER_CIPHER_KEY to its key\n")
        malformed = run("--db", store, *command, env={"TRACKER_CIPHER_KEY": "abc"})
        assert malformed.exit_code == 2


def test_a_line_separator_in_a_title_is_shown_escaped(tmp_path):
    store = str(tmp_path / "events.db")
    result = run("--db", store, "record", "meeting-held", "--meeting-id", "split", "--occurred-on", "2023-05-01",
                 "--title", "Talks\u2028in two lines", "--place", "Astana", "--party", "KZ", "--party", "CN",
                 "--source-title", "MFA")
    assert result.exit_code == 0, result.stderr
    shown = run("--db", store, "meetings").stdout
    assert "\u2028" not in shown and "Talks\\u2028in two lines" in shown
