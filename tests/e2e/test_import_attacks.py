"""What a streamed import does when things go wrong around it: a store kept locked, a wrong
key, a temporary folder that fills up, a process killed midway, two imports at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.builders import registered
from tests.e2e import test_record_safety
from tests.e2e.test_record_safety import fill, held, history, stderr_lines
from tests.e2e.test_streamed_import import invoke, signed, write
from tests.rows import fact_rows, fingerprint, stored_facts

KEY = "TRACKER_CIPHER_KEY"
small_disk = test_record_safety.small_disk


def test_an_import_waiting_too_long_for_the_store_fails_in_one_line_and_writes_nothing(
        store_url, tmp_path, monkeypatch):
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [registered("road")])).exit_code == 0
    before = fact_rows(store_url)
    monkeypatch.setattr("tracker.config.SQLITE_LOCK_TIMEOUT", 2, raising=False)
    monkeypatch.setattr("tracker.config.POSTGRES_LOCK_TIMEOUT", 2, raising=False)
    with held(store_url, 60):
        result = invoke(store_url, tmp_path, "import", str(history(tmp_path / "h.jsonl", 50)))
    assert result.exit_code == 6, result.stderr
    assert stderr_lines(result) == [
        "tracker: waiting for another process writing to the store (up to 2 s)...",
        "tracker: error: another process kept the store locked for 2 s; nothing was written"
        " (try again when it is done)",
    ]
    assert fact_rows(store_url) == before


def test_an_encrypted_store_refuses_an_import_under_another_key_in_one_line(store_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tracker.cli import app as cli

    monkeypatch.setenv(KEY, CliRunner().invoke(cli, ["keygen"]).stdout.strip())
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [registered("visa")])).exit_code == 0
    before = fingerprint(store_url)
    monkeypatch.setenv(KEY, CliRunner().invoke(cli, ["keygen"]).stdout.strip())
    result = invoke(store_url, tmp_path, "import", write(tmp_path / "b.jsonl", [signed("visa", "visa-signed")]))
    assert result.exit_code == 6, result.stderr
    assert len(stderr_lines(result)) == 1 and stderr_lines(result)[0].startswith("tracker: error: ")
    assert fingerprint(store_url) == before


ROOT = Path(__file__).resolve().parents[2]


def tracker_process(store: str, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """The tracker in a process of its own (the temporary folder is chosen when a process starts)."""
    return subprocess.Popen([sys.executable, "-m", "tracker", "--db", store, "--views", str(tmp_path / "views.db"),
                             *args], cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_an_import_killed_midway_leaves_no_copy_of_its_lines_behind(store_url, tmp_path):
    from typer.testing import CliRunner

    from tracker.cli import app as cli

    key = CliRunner().invoke(cli, ["keygen"]).stdout.strip()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    lines = history(tmp_path / "h.jsonl", 60_000)  # the lines of an encrypted store, in clear text
    importing = tracker_process(store_url, tmp_path, "import", str(lines), TMPDIR=str(temporary),
                                **{KEY: key})
    time.sleep(3)
    assert importing.poll() is None, importing.stderr.read()  # still importing
    importing.send_signal(signal.SIGKILL)
    importing.wait()
    assert list(temporary.iterdir()) == []
    assert len(stored_facts(store_url)) in (0, 60_001)  # whole or absent


def test_an_import_whose_temporary_folder_fills_up_fails_in_one_line_and_writes_nothing(
        store_url, tmp_path, small_disk):
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [registered("road")])).exit_code == 0
    before = fingerprint(store_url)
    fill(small_disk)
    importing = tracker_process(store_url, tmp_path, "import", str(history(tmp_path / "h.jsonl", 60_000)),
                                TMPDIR=str(small_disk))
    _, stderr = importing.communicate(timeout=300)
    assert importing.returncode == 6, stderr
    assert stderr.splitlines() == [
        f"tracker: error: no room to keep the lines of the import in {small_disk}: database or disk is full;"
        " nothing was written (TMPDIR chooses the folder)"]
    assert fingerprint(store_url) == before


server = test_record_safety.server


def test_a_server_killed_midway_through_an_import_s_write_is_told_in_one_line_and_the_import_can_be_repeated(
        server, tmp_path, monkeypatch):
    from tracker.postgres import PostgresStoreRecorder

    lines = history(tmp_path / "h.jsonl", 4999)
    writing = PostgresStoreRecorder.writing
    kills = []

    @contextmanager
    def killed_after_the_first_batch(self):  # noqa: ANN001, ANN202
        with writing(self) as write:
            def write_then_kill(batch):  # noqa: ANN001, ANN202
                write(batch)
                if not kills:
                    kills.append(server.kill())
            yield write_then_kill

    monkeypatch.setattr(PostgresStoreRecorder, "writing", killed_after_the_first_batch)
    result = invoke(server.url, tmp_path, "import", str(lines))
    assert kills
    assert result.exit_code == 6
    [said] = stderr_lines(result)
    assert said.startswith("tracker: error: h.jsonl: the whole file may or may not be recorded (all of it or none):"
                           f" lost the store postgresql://127.0.0.1:{server.port}/tracker_test while saving (")
    assert said.endswith("); importing it again is safe (what is recorded is skipped)")
    server.restart()
    assert fact_rows(server.url + "?schema=public") == []
    monkeypatch.undo()
    again = invoke(server.url, tmp_path, "import", str(lines))
    assert again.exit_code == 0, again.stderr
    assert stderr_lines(again)[-1] == "imported 5000 new events, 0 already recorded"


def test_an_import_in_chunks_from_stdin_whose_temporary_folder_is_full_fails_in_one_line_and_writes_nothing(
        store_url, tmp_path, small_disk):
    assert invoke(store_url, tmp_path, "import", write(tmp_path / "a.jsonl", [registered("road")])).exit_code == 0
    before = fingerprint(store_url)
    fill(small_disk, leave=64 * 1024)  # room to make the file (else another folder is taken), not to fill it
    importing = tracker_process(store_url, tmp_path, "import", "--chunk", "1000", "-", TMPDIR=str(small_disk))
    _, stderr = importing.communicate(history(tmp_path / "h.jsonl", 5000).read_text(), timeout=300)
    assert importing.returncode == 6, stderr
    assert stderr.splitlines() == [f"tracker: error: cannot keep stdin in a temporary file in {small_disk}: No space"
                                   " left on device; nothing was written (TMPDIR chooses the folder)"]
    assert fingerprint(store_url) == before
