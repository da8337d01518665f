"""PostgreSQL persistence (PERSISTENCE_MODULE); imported only for a PostgreSQL store."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.postgres import PostgresFactory as LibraryPostgresFactory
from eventsourcing.utils import retry

# A read tries twice: a pooled connection broken by a server restart fails once, and the
# pool gives a new one. eventsourcing's ten tries (5 s each) took 40 s to report a server gone.
_read_twice = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.2)


class PostgresStoreRecorder(PostgresApplicationRecorder):
    """eventsourcing's recorder, trying a save once and a read twice. A save whose connection
    broke may have been committed already: the tracker looks before it tries again
    (Tracker.record_many)."""

    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
    select_notifications = _read_twice(PostgresApplicationRecorder.select_notifications.__wrapped__)  # type: ignore[attr-defined]
    max_notification_id = _read_twice(PostgresApplicationRecorder.max_notification_id.__wrapped__)  # type: ignore[attr-defined]

    def _create_table(self, curs: Any) -> None:
        # Creating its index again would wait for a writer holding the table: the command
        # would wait before it could say so (Tracker._wait_for_other_writers).
        curs.execute("SELECT to_regclass(%s) AS found", [f'"{self.datastore.schema}"."{self.events_table_name}"'])
        if curs.fetchone()["found"] is None:
            super()._create_table(curs)


class PostgresSnapshotRecorder(PostgresAggregateRecorder):
    """Snapshots, saved once: one that fails is made again by a later write."""

    insert_events = PostgresAggregateRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]


class PostgresFactory(LibraryPostgresFactory):
    application_recorder_class = PostgresStoreRecorder
    aggregate_recorder_class = PostgresSnapshotRecorder
