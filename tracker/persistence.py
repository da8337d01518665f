"""How events are stored: pydantic models as JSON through orjson, never pickles.

Set in the application's environment (MAPPER_TOPIC, TRANSCODER_TOPIC), after
eventsourcing's pydantic examples. Older stored versions are upcast on the way in
with the event class's ``upcast_vN_vN+1`` methods.

Beyond eventsourcing's documented extension points, this relies on (checked by
tests/test_library_internals.py): ``SQLiteApplicationRecorder.insert_events`` calling
``_insert_events(c, stored_events)`` inside its transaction, on an events table with
rowids; and, in ``first_records``, a recorder's ``events_table_name`` and its
datastore's ``transaction()`` (SQLite) or ``schema`` and ``get_connection()`` (PostgreSQL).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, ProgrammingError, Recorder, StoredEvent, Transcoder, Transcoding
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.sqlite import SQLiteFactory as LibrarySQLiteFactory
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from events.base import ENVELOPE, Fact, upcast
from events.errors import StoreUnreadable
from events.fast_models import stored_reader
from projections.files import bind_quickly
from tracker.keys import MARKER_TOPIC, StoreKeyMarked


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        # orjson (3.12 on) hands back its whole working buffer, 4 KB at least, as the bytes
        # object, and a save holds every record it writes until the insert: copied to their
        # length, a large import holds its records, not that many buffers.
        return b"".join((orjson.dumps(obj), b""))

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)

    def register(self, transcoding: Transcoding) -> None:
        raise ProgrammingError("pydantic models serialise themselves; nothing to register")


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        model: BaseModel = domain_event
        cls = type(model)
        if isinstance(model, Fact):  # its line is made already (for its seal): the same fields
            state = dict(model.to_line())
            del state["type"]
        elif getattr(cls, "json_fields", False):  # a claim: its fields are JSON already
            state = {k: v for k, v in model.__dict__.items() if v is not None and k not in ENVELOPE}
        else:
            state = model.model_dump(mode="json", exclude=set(ENVELOPE), exclude_none=True)
        seal = model.__dict__.get("seal")  # getattr on a missing field is pydantic's slow path
        if seal:
            state["seal"] = seal
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher and cls is not StoreKeyMarked:  # the marker says which key: in clear text
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(cls),
            state=stored,
        )

    def decode_state(self, topic: str, stored: bytes) -> tuple[type[BaseModel], dict[str, Any], bool]:
        """The event class, its current-version fields from stored bytes, and whether they
        had to be upcast."""
        try:
            if self.cipher and topic != MARKER_TOPIC:
                stored = self.cipher.decrypt(stored)
            if self.compressor:
                stored = self.compressor.decompress(stored)
            state: dict[str, Any] = self.transcoder.decode(stored)
        except Exception as error:  # noqa: BLE001 - a wrong key fails in many ways
            hint = "wrong TRACKER_CIPHER_KEY?" if self.cipher else "encrypted store? set TRACKER_CIPHER_KEY"
            raise StoreUnreadable(f"cannot read a stored event ({hint}): {type(error).__name__}") from None
        cls = resolve_topic(topic)
        return cls, state, upcast(cls, state)

    def to_domain_event(self, stored: StoredEvent) -> Any:
        return self.event_from(stored.originator_id, stored.originator_version, stored.topic, stored.state)

    def event_from(self, originator_id: Any, originator_version: int, topic: str, stored: bytes) -> Any:
        """The event stored in a record with these columns (no StoredEvent needed)."""
        cls, state, upcast = self.decode_state(topic, stored)
        state["originator_id"] = originator_id  # the line kept below leaves these out
        state["originator_version"] = originator_version
        if upcast or not issubclass(cls, Fact):
            return cls.model_validate(state)
        read = stored_reader(cls)
        event = (read and read(state)) or cls.model_validate(state)
        event.remember_line(state)
        return event


class SQLiteStoreRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, writing a save's records with one ``executemany``
    instead of one INSERT each: one statement a save instead of one a record."""

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int]:
        if not stored_events:
            return []
        c.executemany(self.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state)
            for s in stored_events
        ])
        c.execute(self.select_max_notification_id_statement)
        last = c.fetchone()[0]
        # This transaction holds the write lock, and SQLite gives each new row the largest
        # rowid plus one: the records just written are the last len(stored_events) rowids.
        return list(range(last - len(stored_events) + 1, last + 1))

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """One write transaction held open: the write lock taken now (waiting up to the
        store's lock timeout), each call of what it gives inserting records, all of them
        committed at the end, or none if anything fails before. Reads meanwhile go through
        other connections and see the store as it was: nothing else can change it."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")

            def write(stored_events: Sequence[StoredEvent]) -> None:
                self._insert_events(cursor, stored_events)

            try:
                yield write
            except BaseException:
                conn.rollback()
                raise
            conn.commit()


class SQLiteFactory(LibrarySQLiteFactory):
    """The SQLite persistence of eventsourcing, with the recorder above (PERSISTENCE_MODULE)."""

    application_recorder_class = SQLiteStoreRecorder

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bind_quickly()
        super().__init__(*args, **kwargs)


def first_records(recorder: Recorder, originator_ids: Iterable[UUID], per_query: int = 500) -> list[StoredEvent]:
    """The first record of each of these streams that has one.

    eventsourcing reads one stream at a time: a query each, and on SQLite a transaction
    each, for every event-id claim an import looks up; here a query reads hundreds."""
    # Not imported here: psycopg is installed only with the postgres extra, and a
    # PostgreSQL recorder has loaded the module already.
    postgres = sys.modules.get("eventsourcing.postgres")
    ids = list(dict.fromkeys(originator_ids))
    found: list[StoredEvent] = []
    for start in range(0, len(ids), per_query):
        part = ids[start:start + per_query]
        if isinstance(recorder, SQLiteApplicationRecorder):
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(f"SELECT originator_id, originator_version, topic, state FROM {recorder.events_table_name}"
                          f" WHERE originator_version = 1 AND originator_id IN ({','.join('?' * len(part))})",
                          [i.hex for i in part])
                found += [StoredEvent(UUID(r[0]), r[1], r[2], r[3]) for r in c.fetchall()]
        elif postgres is not None and isinstance(recorder, postgres.PostgresAggregateRecorder):
            from psycopg.sql import SQL, Identifier

            statement = SQL("SELECT originator_id, originator_version, topic, state FROM {schema}.{table}"
                            " WHERE originator_version = 1 AND originator_id = ANY(%s)").format(
                schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, [part])
                found += [StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                          for r in curs.fetchall()]
        else:
            found += [e for i in part for e in recorder.select_events(i, limit=1)]  # type: ignore[attr-defined]
    return found
