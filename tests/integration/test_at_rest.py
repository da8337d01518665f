"""At rest: payloads encrypted when a key is configured; files readable by their owner only."""

from __future__ import annotations

import stat

from typer.testing import CliRunner

from tests.rows import fact_rows, is_postgres
from tracker.cli import app

runner = CliRunner()


def test_with_a_key_the_store_holds_no_readable_title(store_url, tmp_path, monkeypatch):
    key = runner.invoke(app, ["keygen"]).stdout.strip()
    monkeypatch.setenv("TRACKER_CIPHER_KEY", key)
    views = str(tmp_path / "v.db")
    assert runner.invoke(app, ["--db", store_url, "--views", views, "demo"]).exit_code == 0
    if is_postgres(store_url):
        stored = b"".join(row[-1] for row in fact_rows(store_url))
    else:
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("events.db*"))
    assert len(fact_rows(store_url)) == 31
    for clear in (b"Shymkent", b"Mutual exemption from visa requirements", b"Akorda"):
        assert clear not in stored
    board = runner.invoke(app, ["--db", store_url, "--views", views, "status", "--json"])
    assert "Mutual exemption from visa requirements" in board.stdout
    monkeypatch.delenv("TRACKER_CIPHER_KEY")
    refused = runner.invoke(app, ["--db", store_url, "--views", str(tmp_path / "v2.db"), "export"])
    assert (refused.exit_code, refused.stderr) == (
        6, "tracker: error: this store is encrypted: set TRACKER_CIPHER_KEY to its key\n")


def test_without_a_key_the_title_is_in_the_file(tmp_path):
    store = tmp_path / "plain.db"
    runner.invoke(app, ["--db", str(store), "demo"])
    assert b"Shymkent" in b"".join(p.read_bytes() for p in tmp_path.glob("plain.db*"))


def test_store_and_read_model_files_are_readable_by_their_owner_only(tmp_path):
    store = tmp_path / "data" / "private.db"
    runner.invoke(app, ["--db", str(store), "demo"])
    files = sorted(p for p in store.parent.iterdir())
    assert {p.name for p in files} >= {"private.db", "private.views.db"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700


def test_an_encrypted_store_rebuilds_the_same_board_it_showed(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_CIPHER_KEY", runner.invoke(app, ["keygen"]).stdout.strip())
    views = str(tmp_path / "v.db")
    assert runner.invoke(app, ["--db", store_url, "--views", views, "demo"]).exit_code == 0
    before = runner.invoke(app, ["--db", store_url, "--views", views, "status", "--json"]).stdout
    rebuilt = runner.invoke(app, ["--db", store_url, "--views", views, "rebuild"])
    assert (rebuilt.exit_code, rebuilt.stderr) == (0, "rebuilt the read models from 31 events\n")
    assert runner.invoke(app, ["--db", store_url, "--views", views, "status", "--json"]).stdout == before
