"""A store takes one key (or none): a wrong or missing key neither writes nor reads, and
a store can be copied under a new key in one command."""

from __future__ import annotations

import stat

import pytest
from eventsourcing.cipher import AESCipher
from typer.testing import CliRunner

from tests.conftest import postgres_url
from tests.rows import connect, execute, fact_rows, fingerprint, is_postgres
from tracker.cli import app

runner = CliRunner()
ENCRYPTED = "tracker: error: this store is encrypted: set TRACKER_CIPHER_KEY to its key\n"
NOT_ITS_KEY = "tracker: error: TRACKER_CIPHER_KEY is not this store's key\n"
NOT_ENCRYPTED = ("tracker: error: this store is not encrypted: unset TRACKER_CIPHER_KEY"
                 " (or copy it encrypted with 'tracker rotate-key')\n")
MARKER_TOPIC = "tracker.keys:StoreKeyMarked"


def new_key() -> str:
    return AESCipher.create_key(num_bytes=32)


def tracker(store: str, views, *args: str):  # noqa: ANN001, ANN201
    return runner.invoke(app, ["--db", store, "--views", str(views), *args])


def register(store: str, views, cid: str):  # noqa: ANN001, ANN201
    return tracker(store, views, "record", "commitment-registered", "--commitment-id", cid,
                   "--occurred-on", "2023-05-17", "--kind", "agreement", "--title", f"Agreement {cid}",
                   "--party", "KZ", "--party", "CN", "--binding", "--source-title", "Akorda press service")


def use_key(monkeypatch, key: str | None) -> None:  # noqa: ANN001
    if key:
        monkeypatch.setenv("TRACKER_CIPHER_KEY", key)
    else:
        monkeypatch.delenv("TRACKER_CIPHER_KEY", raising=False)


def unmark(store: str) -> None:
    """Make the store one written before stores were marked with their key (0.5.x)."""
    execute(store, "DELETE FROM {table} WHERE topic = {p}", [MARKER_TOPIC])


def marker_states(store: str) -> list[bytes]:
    with connect(store) as (conn, table, _, mark):
        return [bytes(r[0]) for r in conn.execute(f"SELECT state FROM {table} WHERE topic = {mark}",
                                                   [MARKER_TOPIC]).fetchall()]


@pytest.mark.parametrize("written_before_markers", [False, True], ids=["marked", "unmarked"])
@pytest.mark.parametrize("store_key, given_key, refusal", [
    ("one", "other", NOT_ITS_KEY),
    ("one", None, ENCRYPTED),
    (None, "one", NOT_ENCRYPTED),
], ids=["another-key", "no-key", "key-for-a-clear-store"])
def test_a_key_that_is_not_the_stores_writes_nothing_and_reads_nothing(
        store_url, tmp_path, monkeypatch, store_key, given_key, refusal, written_before_markers):
    keys = {"one": new_key(), "other": new_key(), None: None}
    use_key(monkeypatch, keys[store_key])
    assert register(store_url, tmp_path / "v.db", "visa").exit_code == 0
    if written_before_markers:
        unmark(store_url)
    before = fingerprint(store_url)
    use_key(monkeypatch, keys[given_key])
    for command in (("record",), ("export",), ("verify",), ("rebuild",)):
        if command == ("record",):
            result = register(store_url, tmp_path / "v.db", "railway")  # read models up to date
        else:
            result = tracker(store_url, tmp_path / "v2.db", *command)
        assert (result.exit_code, result.stderr) == (6, refusal), command
    assert fingerprint(store_url) == before
    use_key(monkeypatch, keys[store_key])
    assert tracker(store_url, tmp_path / "v3.db", "verify").exit_code == 0
    assert tracker(store_url, tmp_path / "v3.db", "export").stdout.count("\n") == 1


def test_an_empty_store_takes_the_key_it_is_first_written_with_and_keeps_only_a_check_of_it(
        store_url, tmp_path, monkeypatch):
    key = new_key()
    use_key(monkeypatch, key)
    assert register(store_url, tmp_path / "v.db", "visa").exit_code == 0
    (state,) = marker_states(store_url)
    assert b'"encrypted":true' in state
    assert key.encode() not in state and AESCipher.create_key(32).encode() not in state
    use_key(monkeypatch, new_key())
    assert register(store_url, tmp_path / "v.db", "railway").stderr == NOT_ITS_KEY


def test_of_two_first_writers_with_different_keys_the_second_is_refused(store_url, tmp_path, monkeypatch):
    """Both open the empty store before either writes: the check at opening cannot see the
    other; the marker written with the first save can."""
    from events import parse_line
    from tests.builders import registered
    from tracker.application import Tracker
    from tracker.config import resolve_store
    from tracker.key_check import WrongKey

    store = resolve_store(store_url, str(tmp_path / "v.db"))
    use_key(monkeypatch, new_key())
    first = Tracker(store)
    use_key(monkeypatch, new_key())
    second = Tracker(store)
    first.record(parse_line(registered("visa")))
    with pytest.raises(WrongKey, match="TRACKER_CIPHER_KEY is not this store's key"):
        second.record(parse_line(registered("railway")))
    assert len(fact_rows(store_url)) == 1
    first.close()
    second.close()


def test_a_store_written_before_markers_is_marked_by_its_next_write(store_url, tmp_path, monkeypatch):
    use_key(monkeypatch, new_key())
    assert register(store_url, tmp_path / "v.db", "visa").exit_code == 0
    unmark(store_url)
    assert register(store_url, tmp_path / "v.db", "railway").exit_code == 0
    assert len(marker_states(store_url)) == 1
    verified = tracker(store_url, tmp_path / "v.db", "verify")
    assert (verified.exit_code, verified.stderr) == (0, "verified 2 events in 2 streams: intact\n")


@pytest.mark.parametrize("malformed", ["abc", "not a key at all", AESCipher.create_key(32)[:-4]])
def test_a_malformed_key_is_refused_in_one_line_before_anything_is_created(tmp_path, monkeypatch, malformed):
    monkeypatch.setenv("TRACKER_CIPHER_KEY", malformed)
    store = tmp_path / "new.db"
    result = register(str(store), tmp_path / "v.db", "visa")
    assert (result.exit_code, result.stderr) == (
        2, "tracker: error: TRACKER_CIPHER_KEY is not a valid key: make one with 'tracker keygen'\n")
    assert not store.exists()


def other_store(store_url: str, tmp_path) -> str:  # noqa: ANN001
    return postgres_url() if is_postgres(store_url) else str(tmp_path / "rekeyed.db")


def test_rotate_key_copies_every_event_under_the_new_key_and_leaves_the_store_unchanged(
        store_url, tmp_path, monkeypatch):
    old_key, key = new_key(), new_key()
    use_key(monkeypatch, old_key)
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    exported = tracker(store_url, tmp_path / "v.db", "export").stdout
    before = fingerprint(store_url)
    target = other_store(store_url, tmp_path)
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", key)
    rotated = tracker(store_url, tmp_path / "v.db", "rotate-key", "--to", target)
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.stderr.startswith("copied 62 records (31 events) to ")
    assert " under the key in TRACKER_NEW_CIPHER_KEY and verified them; " in rotated.stderr
    assert fingerprint(store_url) == before
    assert register(target, tmp_path / "new.db", "railway").stderr == NOT_ITS_KEY  # the old key
    use_key(monkeypatch, key)
    assert tracker(target, tmp_path / "new.db", "export").stdout == exported
    assert tracker(target, tmp_path / "new.db", "verify").stderr == "verified 31 events in 13 streams: intact\n"
    for clear in (b"Shymkent", b"Akorda"):
        assert clear not in b"".join(bytes(row[-1]) for row in fact_rows(target))


def test_rotate_key_encrypts_a_clear_store(store_url, tmp_path, monkeypatch):
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    key = new_key()
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", key)
    target = other_store(store_url, tmp_path)
    assert tracker(store_url, tmp_path / "v.db", "rotate-key", "--to", target).exit_code == 0
    exported = tracker(store_url, tmp_path / "v.db", "export").stdout
    assert tracker(target, tmp_path / "new.db", "export").stderr == ENCRYPTED
    use_key(monkeypatch, key)
    assert tracker(target, tmp_path / "new.db", "export").stdout == exported
    for clear in (b"Shymkent", b"Akorda"):
        assert clear not in b"".join(bytes(row[-1]) for row in fact_rows(target))


def test_rotate_key_that_cannot_read_a_record_copies_nothing(store_url, tmp_path, monkeypatch):
    use_key(monkeypatch, new_key())
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    position = fact_rows(store_url)[10][0]
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}", [b"damaged", position])
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", new_key())
    target = other_store(store_url, tmp_path)
    result = tracker(store_url, tmp_path / "v.db", "rotate-key", "--to", target)
    assert (result.exit_code, result.stderr) == (
        6, f"tracker: error: notification {position} does not decrypt under TRACKER_CIPHER_KEY: nothing was copied\n")
    if is_postgres(target):
        assert fact_rows(target) == []
    else:
        assert list(tmp_path.glob("rekeyed.db*")) == []


def test_rotate_key_into_a_store_that_is_not_empty_copies_nothing(store_url, tmp_path, monkeypatch):
    key = new_key()
    target = other_store(store_url, tmp_path)
    source_key = new_key()
    use_key(monkeypatch, key)
    assert register(target, tmp_path / "t.db", "kept").exit_code == 0
    kept = fact_rows(target), marker_states(target)
    use_key(monkeypatch, source_key)
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", key)
    result = tracker(store_url, tmp_path / "v.db", "rotate-key", "--to", target)
    assert result.exit_code == 2
    assert result.stderr.endswith(" is not empty: rotate-key copies into a new, empty store\n")
    assert (fact_rows(target), marker_states(target)) == kept


def test_rotate_key_with_the_same_key_or_into_the_store_itself_is_refused(tmp_path, monkeypatch):
    key = new_key()
    use_key(monkeypatch, key)
    store = str(tmp_path / "events.db")
    assert tracker(store, tmp_path / "v.db", "demo").exit_code == 0
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", key)
    same = tracker(store, tmp_path / "v.db", "rotate-key", "--to", str(tmp_path / "new.db"))
    assert (same.exit_code, same.stderr) == (2, "tracker: error: TRACKER_NEW_CIPHER_KEY is the store's key"
                                                " already: set it to a new one ('tracker keygen')\n")
    monkeypatch.setenv("TRACKER_NEW_CIPHER_KEY", new_key())
    itself = tracker(store, tmp_path / "v.db", "rotate-key", "--to", store)
    assert (itself.exit_code, itself.stderr) == (2, "tracker: error: --to names the store itself: give a new, empty store\n")
    assert not (tmp_path / "new.db").exists()


def test_rotate_key_has_help_with_an_example():
    result = runner.invoke(app, ["rotate-key", "--help"])
    assert result.exit_code == 0
    assert "TRACKER_NEW_CIPHER_KEY" in result.stdout
    assert "tracker --db tracker.db rotate-key --to tracker-rekeyed.db" in result.stdout


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "clear"])
def test_an_export_file_is_readable_by_its_owner_only_and_says_when_it_is_clear_text(
        store_url, tmp_path, monkeypatch, encrypted):
    use_key(monkeypatch, new_key() if encrypted else None)
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    out = tmp_path / "backup.jsonl"
    result = tracker(store_url, tmp_path / "v.db", "export", str(out))
    assert result.exit_code == 0
    assert result.stderr == ("exported 31 events in clear text (the store is encrypted; the export is not)\n"
                             if encrypted else "exported 31 events\n")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(out.read_text().splitlines()) == 31


def test_a_failed_export_leaves_no_partial_file_and_keeps_the_previous_one(store_url, tmp_path):
    assert tracker(store_url, tmp_path / "v.db", "demo").exit_code == 0
    out = tmp_path / "backup.jsonl"
    out.write_text("the previous backup\n")
    execute(store_url, "UPDATE {table} SET state = {p} WHERE {position} = {p}",
            [b"damaged", fact_rows(store_url)[10][0]])
    result = tracker(store_url, tmp_path / "v.db", "export", str(out))
    assert result.exit_code == 6
    assert out.read_text() == "the previous backup\n"
    fresh = tmp_path / "fresh.jsonl"
    assert tracker(store_url, tmp_path / "v.db", "export", str(fresh)).exit_code == 6
    assert sorted(p.name for p in tmp_path.iterdir() if "jsonl" in p.name) == ["backup.jsonl"]

