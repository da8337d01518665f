"""eventsourcing's PostgreSQL persistence, writing a save's records in bounded statements.

A module of its own: psycopg is installed only with the postgres extra (PERSISTENCE_MODULE
names this module for PostgreSQL stores only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.postgres import PostgresFactory as LibraryPostgresFactory
from eventsourcing.utils import retry

# What one INSERT carries at most: its records' state in bytes, and how many records.
STATEMENT_BYTES = 1_000_000
STATEMENT_RECORDS = 1_000


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
    all in one transaction, one statement after the other.

    The library sends them as one array parameter in pipeline mode: an import of 15,000
    facts (a parameter of several MB) hung in two runs of three, the server waiting for the
    rest of the statement while holding the events table's lock. Here every statement is
    sent whole before its result is read, and none is large. The lock, the NOTIFY and the
    order of notification ids are the library's: the table is locked before the first
    insert, so each transaction's ids are consecutive and commit in order."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
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


class PostgresFactory(LibraryPostgresFactory):
    """The PostgreSQL persistence of eventsourcing, with the recorder above (PERSISTENCE_MODULE)."""

    application_recorder_class = PostgresStoreRecorder
