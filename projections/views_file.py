"""Which files the tracker may write its read models into, and one rebuild of a file at a time.

The read models can always be made again from the events, so a damaged read-model file is
ours to replace; any other file is not. A file is proven ours by the marker every
read-model file carries in its SQLite header (``PRAGMA application_id``), or, for files
made before the marker (0.5.x), by its ``meta`` (with a ``schema`` row) and ``positions``
tables. A file that is not a SQLite database at all proves nothing, so it is taken as a
damaged read-model file only where the tracker itself would put one (beside its store, or
in the per-user folder for a PostgreSQL store) or when its header still holds the marker.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from events.errors import InvalidInput, StoreUnavailable, TrackerError
from projections.files import StoreFiles, refuse_store_as_views, refuse_unless_regular, same_file

# "Trkv": written in the header of every read-model file (bytes 68-71, big-endian).
APPLICATION_ID = 0x54726B76
SQLITE_MAGIC = b"SQLite format 3\x00"
# What SQLite says of a file whose pages do not hold a database (anywhere, or in places).
DAMAGE_WORDS = ("malformed", "not a database", "database corruption")


class DamagedViews(TrackerError):
    """A read-model file of ours that SQLite cannot read: to be rebuilt from the events."""

    exit_code = 6

    def __init__(self, path: Path, reason: str):
        super().__init__(f"the read-model file {path} is damaged ({reason}): run 'tracker rebuild'")
        self.path = path


def says_damaged(error: BaseException) -> bool:
    """Whether a SQLite error says the file's pages are not (or no longer) a database."""
    return isinstance(error, sqlite3.DatabaseError) and any(w in str(error).lower() for w in DAMAGE_WORDS)


def claim(path: Path, store: StoreFiles | None = None) -> str:
    """Whether the tracker may write read models at ``path``: "new" (nothing there yet),
    "ours" or "damaged" (ours, not readable: to be built again). Anything else, or the
    store itself, is refused with InvalidInput and left untouched."""
    if store is not None:
        refuse_store_as_views(store.location, path)
    refuse_unless_regular(path, "the read-model file")
    try:
        with open(path, "rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return "new"
    except IsADirectoryError:
        raise InvalidInput(f"the read-model file {path} is a folder") from None
    except OSError as error:
        raise StoreUnavailable(f"cannot read the read-model file {path}: {error.strerror}") from None
    if not header:
        return "new"  # an empty file is an empty database to SQLite
    marked = len(header) >= 72 and int.from_bytes(header[68:72], "big") == APPLICATION_ID
    at_home = store is not None and same_file(path, store.default_views)
    if not header.startswith(SQLITE_MAGIC):
        if marked or at_home:
            return "damaged"
        raise InvalidInput(f"{path} is not a read-model file of this tracker (not even a SQLite database):"
                           " name another file with --views, or remove it if it held read models")
    if marked:
        return "ours"
    # Without a write-ahead log beside it, read as it is: opening it otherwise would leave
    # a log and a shared-memory file beside someone else's database.
    in_use = Path(f"{path}-wal").exists()
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro" + ("" if in_use else "&immutable=1"), uri=True)
        try:
            marked = db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            schema = ("meta" in tables and "positions" in tables
                      and db.execute("SELECT 1 FROM meta WHERE key = 'schema'").fetchone() is not None)
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        if marked or at_home:
            return "damaged"
        raise InvalidInput(f"{path} is not a read-model file of this tracker (SQLite cannot read it: {error}):"
                           " name another file with --views") from None
    if marked or schema or not tables:
        return "ours"  # a database with nothing in it has nothing to lose
    raise InvalidInput(f"{path} is not a read-model file of this tracker (a SQLite database with other tables):"
                       " name another file with --views")


def refuse_as_store(location: str) -> None:
    """InvalidInput unless a SQLite store's path names nothing yet, an empty database, or an
    event store: a read-model file (``--db`` and ``--views`` swapped) or someone else's
    database would have the store's tables added to it, mixing events into it."""
    refuse_unless_regular(Path(location), "the store")
    try:
        with open(location, "rb") as file:
            header = file.read(100)
    except OSError:
        return  # nothing there yet: opening the store makes it, or says why it cannot
    if not header:
        return
    if len(header) >= 72 and int.from_bytes(header[68:72], "big") == APPLICATION_ID:
        raise InvalidInput(f"{location} is a read-model file, not an event store: name the store with --db"
                           " (its read models are found beside it)")
    if not header.startswith(SQLITE_MAGIC):
        return  # not a database at all: opening the store says so
    try:
        db = sqlite3.connect(f"file:{quote(location)}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return
    if not tables or "stored_events" in tables:
        return
    if {"meta", "positions"} <= tables:  # read models made before the marker
        raise InvalidInput(f"{location} is a read-model file, not an event store: name the store with --db"
                           " (its read models are found beside it)")
    raise InvalidInput(f"{location} is not an event store of this tracker (a SQLite database with other"
                       " tables): name another file with --db")


@contextmanager
def rebuilding(path: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Held while ``path`` is rebuilt: one rebuild of a file at a time (the next waits, saying
    so). Temporary files left by a rebuild that was killed are removed once it is held."""
    import fcntl

    lock = path.with_name(path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            (say or _stderr)(f"waiting for another rebuild of {path} to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        for leftover in path.parent.glob("*"):
            if leftover.name.startswith(path.name + ".rebuilding"):
                leftover.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def _stderr(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(message + "\n")
