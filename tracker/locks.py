"""Waiting for another process that is writing: said on stderr, bounded, and failing in one line."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from events.errors import StoreUnavailable

# After this long without the lock, say that this process is waiting, and for what.
NOTICE_AFTER = 1.0


def wait_for_writer(take: Callable[[float], bool], what: str, timeout: float) -> None:
    """Wait until ``take(seconds)`` gets the write lock on ``what`` (it returns False when it
    waited that long in vain): silently for a second, then saying so, and at most ``timeout``
    seconds in all, after which StoreUnavailable says that nothing was written."""
    started = time.monotonic()
    if take(min(NOTICE_AFTER, timeout)):
        return
    sys.stderr.write(f"tracker: waiting for another process writing to {what} (up to {timeout:.0f} s)...\n")
    sys.stderr.flush()
    remaining = timeout - (time.monotonic() - started)
    if remaining > 0 and take(remaining):
        return
    raise StoreUnavailable(f"another process kept {what} locked for {timeout:.0f} s; nothing was written"
                           " (try again when it is done)")


def wait_for_sqlite_writer(path: Path | str, what: str, timeout: float) -> None:
    """Wait until no other process holds the write lock of this SQLite file (see wait_for_writer).

    The lock is taken and let go at once: what follows takes it again with its own timeout,
    so another writer slipping in between only makes it wait (silently) as before."""
    if not Path(path).exists():
        return
    db = sqlite3.connect(path, isolation_level=None)

    def take(seconds: float) -> bool:
        db.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return False
            raise
        db.execute("ROLLBACK")
        return True

    try:
        wait_for_writer(take, what, timeout)
    finally:
        db.close()


def wait_for_postgres_writer(recorder: Any, what: str, timeout: float) -> None:
    """Wait until no other process holds the lock that a save takes on the events table of
    this PostgreSQL store (see wait_for_writer); taken and let go at once, as above."""
    from eventsourcing.persistence import OperationalError
    from psycopg.sql import SQL, Identifier

    lock = SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))

    def take(seconds: float) -> bool:
        try:
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(SQL("SET LOCAL lock_timeout = {}").format(max(1, int(seconds * 1000))))
                curs.execute(lock)
        except OperationalError as error:
            if "lock timeout" in str(error):
                return False
            raise
        return True

    wait_for_writer(take, what, timeout)
