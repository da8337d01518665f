"""What the tracker's fast paths take from its libraries beyond their documented API.

Each fast path lives in one module that says what it relies on (events/fast_models.py for
pydantic, tracker/persistence.py and tracker/postgres.py for eventsourcing's recorders,
tracker/cli/typer_internals.py for typer). When an upgrade changes what one relies on, a
test here fails with a message naming the library, what changed and where it is used."""

from __future__ import annotations

import inspect
import sqlite3
from importlib.metadata import version

import pytest

from tests.builders import registered


def changed(library: str, what: str, where: str) -> str:
    return f"{library} {version(library)} changed: {what} (relied on by {where})"


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


# -- pydantic: models made without validation (events/fast_models.py) -------------------


def test_pydantic_keeps_a_models_state_in_the_four_slots_that_models_made_without_validation_set():
    from pydantic import BaseModel

    slots = {"__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"}
    assert set(BaseModel.__slots__) == slots, changed(
        "pydantic", f"BaseModel's slots are now {sorted(BaseModel.__slots__)}", "events/fast_models.trusted")


def test_a_fact_made_without_validation_equals_the_validated_one_in_every_way_pydantic_looks():
    from events import parse_line
    from events.fast_models import stored_reader, trusted

    validated = parse_line(registered("visa"))
    state = {k: v for k, v in validated.to_line().items() if k != "type"}
    for way, made in [("trusted()", trusted(type(validated), dict(validated.__dict__), set(validated.model_fields_set))),
                      ("stored_reader()", stored_reader(type(validated))(state))]:
        where = f"events/fast_models ({way})"
        assert made == validated, changed("pydantic", "a model made without validation no longer equals the validated one", where)
        assert made.model_dump(mode="json") == validated.model_dump(mode="json"), changed("pydantic", "its dump differs", where)


def test_a_stamped_fact_equals_what_model_copy_makes():
    from events import parse_line

    validated = parse_line(registered("visa"))
    validated.to_line()  # a line kept beside the fields is not copied
    assert validated.stamped(originator_version=3, seal="abc") == validated.model_copy(
        update={"originator_version": 3, "seal": "abc"}), changed(
        "pydantic", "a copy made by replacing __dict__ differs from model_copy(update=...)", "events/fast_models.replaced")


def test_a_line_kept_in_a_models_dict_changes_neither_its_equality_nor_its_dumps():
    from events import parse_line
    from events.fast_models import keep_line

    plain, with_line = parse_line(registered("visa")), parse_line(registered("visa"))
    keep_line(with_line, {"type": "anything"})
    where = "events/fast_models.keep_line"
    assert with_line == plain, changed("pydantic", "a non-field key of __dict__ now counts in ==", where)
    assert with_line.model_dump() == plain.model_dump(), changed("pydantic", "a non-field key of __dict__ is now dumped", where)
    assert with_line.model_dump_json() == plain.model_dump_json(), changed("pydantic", "a non-field key is now in JSON", where)


# -- eventsourcing: recorders and the application (tracker/persistence.py, postgres.py, application.py) --


@pytest.mark.parametrize(("owner", "method", "expected", "where"), [
    ("eventsourcing.sqlite:SQLiteApplicationRecorder", "_insert_events", ["self", "c", "stored_events", "_"],
     "tracker/persistence.SQLiteStoreRecorder"),
    ("eventsourcing.postgres:PostgresApplicationRecorder", "_insert_events", ["self", "curs", "stored_events", "_"],
     "tracker/postgres.PostgresStoreRecorder.insert_events"),
    ("eventsourcing.postgres:PostgresApplicationRecorder", "_lock_table", ["self", "curs"],
     "tracker/postgres.PostgresStoreRecorder.insert_events"),
    ("eventsourcing.postgres:PostgresApplicationRecorder", "_notify_channel", ["self", "curs"],
     "tracker/postgres.PostgresStoreRecorder.insert_events"),
    ("eventsourcing.postgres:PostgresApplicationRecorder", "construct_pg_stored_event",
     ["self", "originator_id", "originator_version", "topic", "state"], "tracker/postgres.PostgresStoreRecorder.insert_events"),
    ("eventsourcing.postgres:PostgresApplicationRecorder", "_create_table", ["self", "curs"],
     "tracker/postgres.PostgresStoreRecorder._create_table"),
    ("eventsourcing.application:Application", "_record", ["self", "processing_event"], "tracker/application.Tracker._record"),
    ("eventsourcing.application:Application", "construct_env", ["self", "name", "env"],
     "tracker/application.Tracker.construct_env"),
])
def test_the_eventsourcing_methods_the_tracker_overrides_or_calls_keep_their_signatures(owner, method, expected, where):
    from eventsourcing.utils import resolve_topic

    cls = resolve_topic(owner)
    assert hasattr(cls, method), changed("eventsourcing", f"{cls.__name__}.{method} is gone", where)
    assert parameters(getattr(cls, method)) == expected, changed(
        "eventsourcing", f"{cls.__name__}.{method} now takes {parameters(getattr(cls, method))}", where)


@pytest.mark.parametrize("method", ["insert_events", "select_events", "select_notifications", "max_notification_id"])
def test_the_postgres_methods_whose_retries_the_tracker_replaces_still_wrap_the_undecorated_method(method):
    from eventsourcing.postgres import (
        PostgresAggregateRecorder,
        PostgresApplicationRecorder,
    )

    for cls in (PostgresApplicationRecorder, PostgresAggregateRecorder):
        if method in vars(cls):
            assert hasattr(getattr(cls, method), "__wrapped__"), changed(
                "eventsourcing", f"{cls.__name__}.{method} is no longer a retry wrapper with __wrapped__",
                "tracker/postgres (tries a save once, a read twice)")


def test_eventsourcing_still_calls_the_hooks_the_tracker_overrides(tracker, monkeypatch):
    from events import parse_line

    called: list[str] = []
    for cls, method in [(type(tracker), "_record"), (type(tracker.recorder), "_insert_events")]:
        original = getattr(cls, method)
        monkeypatch.setattr(cls, method, lambda self, *a, _o=original, _m=method, **k: called.append(_m) or _o(self, *a, **k))
    tracker.record(parse_line(registered("visa")))
    assert "_record" in called, changed("eventsourcing", "Application.save no longer calls _record",
                                        "tracker/application.Tracker._record (marks a store with its key)")
    assert "_insert_events" in called, changed("eventsourcing", "the recorder's insert_events no longer calls _insert_events",
                                               "tracker/persistence.SQLiteStoreRecorder (one executemany a save)")


def test_the_recorders_datastore_still_gives_the_cursors_the_tracker_reads_with(tracker):
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from events import parse_line

    recorder = tracker.recorder
    tracker.record(parse_line(registered("visa")))
    where = "tracker/persistence.first_records, projections/rebuild._stored_rows, tracker/locks"
    assert isinstance(recorder.events_table_name, str), changed("eventsourcing", "recorder.events_table_name is gone", where)
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as wrapped:
            assert isinstance(getattr(wrapped, "sqlite_cursor", None), sqlite3.Cursor), changed(
                "eventsourcing", "SQLiteDatastore.transaction() no longer yields a cursor with .sqlite_cursor", where)
            wrapped.execute(f"SELECT COUNT(*) FROM {recorder.events_table_name}")
            assert wrapped.fetchone()[0] >= 1
        return
    assert isinstance(recorder.datastore.schema, str), changed("eventsourcing", "PostgresDatastore.schema is gone", where)
    assert isinstance(recorder.datastore.enable_db_functions, bool), changed(
        "eventsourcing", "PostgresDatastore.enable_db_functions is gone", "tracker/postgres.PostgresStoreRecorder")
    with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
        curs.execute(f'SELECT COUNT(*) AS n FROM "{recorder.datastore.schema}"."{recorder.events_table_name}"')
        assert curs.fetchone()["n"] >= 1, changed("eventsourcing", "get_connection() no longer gives dict rows", where)


# -- typer: its vendored click (tracker/cli/typer_internals.py) ---------------------------


def test_typer_raises_its_vendored_click_exception_for_bad_usage():
    import typer
    from typer.main import get_command

    from tracker.cli.typer_internals import ClickException

    tiny = typer.Typer()

    @tiny.command()
    def only(count: int = 1) -> None:
        """Only."""

    with pytest.raises(ClickException) as raised:
        get_command(tiny).main(["--count", "many"], standalone_mode=False)
    assert raised.value.exit_code == 2, changed("typer", "a bad value's error no longer exits 2", "tracker/cli/__init__")
    assert issubclass(typer.BadParameter, ClickException), changed(
        "typer", "typer.BadParameter no longer derives from typer._click.exceptions.ClickException",
        "tracker/cli/__init__.TrackerGroup.main (one line for every usage error)")


def test_typer_still_builds_one_command_of_an_app_by_its_name():
    import tracker.cli.store  # noqa: F401 - registers rotate-key
    from tracker.cli import app
    from tracker.cli.typer_internals import command_named

    assert command_named(app, "rotate-key").name == "rotate-key", changed(
        "typer", "typer.main.get_command_from_info or get_command_name changed",
        "tracker/cli/typer_internals.command_named (each command's module imported when it runs)")
