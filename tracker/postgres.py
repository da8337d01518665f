"""eventsourcing's PostgreSQL persistence, writing a save's records in bounded statements,
trying a save once and a read twice.

A module of its own: psycopg is installed only with the postgres extra (PERSISTENCE_MODULE
names this module for PostgreSQL stores only).

Beyond eventsourcing's documented extension points, this relies on (checked by
tests/test_library_internals.py): the recorder's ``_insert_events``, ``_lock_table``,
``_notify_channel``, ``construct_pg_stored_event``, ``_create_table`` and
``insert_events_statement``; its datastore's ``enable_db_functions``, ``schema`` and
``get_connection()``; and its retrying methods keeping the undecorated one as ``__wrapped__``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.postgres import PostgresFactory as LibraryPostgresFactory
from eventsourcing.utils import retry

# What one INSERT carries at most: its records' state in bytes, and how many records.
STATEMENT_BYTES = 1_000_000
STATEMENT_RECORDS = 1_000

# A read tries twice: a pooled connection broken by a server restart fails once, and the
# pool gives a new one. eventsourcing's ten tries made a server that is gone slow to report.
_read_twice = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.2)


def bounded(stored_events: Sequence[StoredEvent]) -> Iterator[Sequence[StoredEvent]]:
    """The records in order, in runs of at most STATEMENT_RECORDS records and STATEMENT_BYTES
    of state (a single larger record goes alone)."""
    start, size = 0, 0
    for end, event in enumerate(stored_events):
        if end > start and (end - start == STATEMENT_RECORDS or size + len(event.state) > STATEMENT_BYTES):
            yield stored_events[start:end]
            start, size = end, 0
        size += len(event.state)
    if start < len(stored_events):
        yield stored_events[start:]


class PostgresStoreRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, inserting a save's records a bounded run at a time,
    all in one transaction, one statement after the other; a save is tried once.

    The library sends them as one array parameter in pipeline mode: a large import (a
    parameter of several MB) could hang, the server waiting for the rest of the statement
    while holding the events table's lock. Here every statement is
    sent whole before its result is read, and none is large. The lock, the NOTIFY and the
    order of notification ids are the library's: the table is locked before the first
    insert, so each transaction's ids are consecutive and commit in order.

    A save whose connection broke may have been committed already: the tracker looks before
    it tries again (Tracker.record_many), so the library's retries are not taken here."""

    select_events = _read_twice(PostgresApplicationRecorder.select_events.__wrapped__)
    select_notifications = _read_twice(PostgresApplicationRecorder.select_notifications.__wrapped__)
    max_notification_id = _read_twice(PostgresApplicationRecorder.max_notification_id.__wrapped__)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            return PostgresApplicationRecorder.insert_events.__wrapped__(self, stored_events, **kwargs)
        notification_ids: list[int] | None = None
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                self._lock_table(curs)
                self._notify_channel(curs)
                notification_ids = []
                for run in bounded(stored_events):
                    curs.execute(self.insert_events_statement, (
                        [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                         for e in run],
                    ))
                    notification_ids += [row["notification_id"] for row in curs.fetchall()]
        return notification_ids

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """One write transaction held open: the events table locked now (waiting up to the
        lock timeout), each call of what it gives inserting records, all committed at the
        end or none. Reads meanwhile go through other connections; nothing else can write."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)

            def write(stored_events: Sequence[StoredEvent]) -> None:
                for run in bounded(stored_events):
                    curs.execute(self.insert_events_statement, (
                        [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                         for e in run],
                    ))
                    curs.fetchall()

            yield write
            self._notify_channel(curs)

    def _create_table(self, curs: Any) -> None:
        # Creating its index again would wait for a writer holding the table: the command
        # would wait before it could say so (Tracker._wait_for_other_writers).
        curs.execute("SELECT to_regclass(%s) AS found", [f'"{self.datastore.schema}"."{self.events_table_name}"'])
        if curs.fetchone()["found"] is None:
            super()._create_table(curs)


class PostgresSnapshotRecorder(PostgresAggregateRecorder):
    """Snapshots, saved once: one that fails is made again by a later write."""

    insert_events = PostgresAggregateRecorder.insert_events.__wrapped__


class PostgresFactory(LibraryPostgresFactory):
    """The PostgreSQL persistence of eventsourcing, with the recorders above (PERSISTENCE_MODULE)."""

    application_recorder_class = PostgresStoreRecorder
    aggregate_recorder_class = PostgresSnapshotRecorder
