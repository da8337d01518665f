"""A large import, all or nothing, in memory bounded by its largest stream, not its file.

Three passes, the lines kept on disk in a spool between them: a private SQLite database of
no name, whose file is removed as soon as it is made (it vanishes with the process, killed
or not: an encrypted store's lines are never left behind in clear text):

1. each line is checked and routed to its stream (a correction to its target's), its event
   id reserved across the file (used twice in two streams: refused);
2. one stream at a time takes all its lines, in the file's order, and is checked and folded
   once (a late fact refolds a stream once, not once per chunk); its records go to the
   spool, numbered by line;
3. with the store's write lock held, and the store as it was when checked (else the
   check is made again), the records go into the store in the file's order (each fact,
   then the claim on its id), in one transaction, committed at the end or not at all.

Snapshots due are stored after the commit (one that fails is made by a later write).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import PersistenceError, StoredEvent

from events import CommitmentEvent, Fact, target_of
from events.aggregates import EventIdClaimed, Meeting
from events.errors import (
    ConcurrentChange,
    DuplicateEventId,
    StoreUnavailable,
    TrackerError,
    UnknownEvent,
    UnknownMeeting,
)
from events.vocabulary import trusted_line

if TYPE_CHECKING:
    from tracker.application import Tracker

# Checks of the whole file against the store before giving up, when other writers keep
# writing between the check and the write.
RETRIES = 10


# Records handed to the store in one statement (and read back from the spool at a time).
BATCH = 2_000


@dataclass
class Imported:
    added: int = 0
    unchanged: int = 0


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex


def refused(error: TrackerError, line: int | None) -> TrackerError:
    """The error, saying the number of the line it refuses (``line``: None when not known)."""
    error.line = line  # type: ignore[attr-defined]
    return error


def temporary_folder() -> str:
    """Where SQLite puts the file of a database of no name (its order of choice on POSIX)."""
    for folder in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp"):
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return "."


@contextmanager
def spooling() -> Iterator[None]:
    """The spool's own failures (a full or failing temporary folder) said as such."""
    try:
        yield
    except sqlite3.Error as error:
        what = "no room to keep" if "full" in str(error) else "cannot keep"
        raise StoreUnavailable(f"{what} the lines of the import in {temporary_folder()}: {error};"
                               " nothing was written (TMPDIR chooses the folder)") from None


class Spool:
    """The lines of an import, and the records made from them, in a private file on disk."""

    def __init__(self) -> None:
        # No name: SQLite's temporary database, its file unlinked once opened, gone with the
        # process however it ends; memory holds its cache, the file the rest.
        self.db = sqlite3.connect("", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", "cache_size=-16000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("BEGIN")
        self.db.execute("CREATE TABLE lines (n INTEGER PRIMARY KEY, key TEXT NOT NULL, line BLOB NOT NULL)")
        self.db.execute("CREATE TABLE ids (event_id TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID")
        self.db.execute("CREATE TABLE records (n INTEGER, claim INTEGER, originator_id TEXT, version INTEGER,"
                        " topic TEXT, state BLOB)")
        self.db.execute("CREATE TABLE snapshots (originator_id TEXT, version INTEGER, topic TEXT, state BLOB)")
        self.count = 0
        self._lines: list[tuple[int, str, bytes]] = []  # not written yet
        self._ids: dict[str, tuple[str, int]] = {}  # their event ids: stream and line

    def add(self, n: int, key: str, fact: Fact) -> None:
        """Keep a line's fact and reserve its event id for its stream (DuplicateEventId:
        reserved by another stream, said when the lines are written, a batch at a time)."""
        event_id = fact.event_id
        elsewhere = self._ids.get(event_id)
        if elsewhere is not None and elsewhere[0] != key:
            raise DuplicateEventId(f"event id {event_id!r} is used twice: in {elsewhere[0]} and {key}")
        self._lines.append((n, key, orjson.dumps(fact.to_line())))
        self._ids.setdefault(event_id, (key, n))
        self.count += 1
        if len(self._lines) >= BATCH:
            self._write()

    def _write(self) -> None:
        """Write the lines kept in memory; their event ids, unless another stream has one."""
        ids = [(event_id, key) for event_id, (key, _) in self._ids.items()]
        self.db.executemany("INSERT INTO lines VALUES (?, ?, ?)", self._lines)
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", ids)
        if self.db.total_changes - before < len(ids):  # some were seen on an earlier batch's lines
            taken = dict(self.db.execute(
                f"SELECT event_id, key FROM ids WHERE event_id IN ({','.join('?' * len(ids))})",
                [event_id for event_id, _ in ids]).fetchall())
            for event_id, (key, n) in sorted(self._ids.items(), key=lambda item: item[1][1]):
                if taken[event_id] != key:
                    self._lines, self._ids = [], {}
                    raise refused(DuplicateEventId(
                        f"event id {event_id!r} is used twice: in {taken[event_id]} and {key}"), n)
        self._lines, self._ids = [], {}

    def stream_of(self, event_id: str) -> str | None:
        """The stream of an event id seen on an earlier line."""
        kept = self._ids.get(event_id)
        if kept is not None:
            return kept[0]
        row = self.db.execute("SELECT key FROM ids WHERE event_id = ?", (event_id,)).fetchone()
        return row[0] if row else None

    def indexed(self) -> None:
        self._write()
        self.db.execute("CREATE INDEX lines_by_stream ON lines (key, n)")

    def streams(self) -> Iterator[tuple[str, int]]:
        """Each stream and its first line, in the order of first lines."""
        yield from self.db.execute("SELECT key, min(n) AS first FROM lines GROUP BY key ORDER BY first").fetchall()

    def first_line(self, key: str) -> int | None:
        row = self.db.execute("SELECT min(n) FROM lines WHERE key = ?", (key,)).fetchone()
        return row[0]

    def facts_of(self, key: str) -> list[tuple[int, Fact]]:
        """A stream's facts, with their line numbers, in the file's order."""
        rows = self.db.execute("SELECT n, line FROM lines WHERE key = ? ORDER BY n", (key,)).fetchall()
        return [(n, trusted_line(orjson.loads(line))) for n, line in rows]

    def forget_records(self) -> None:
        self.db.execute("DELETE FROM records")
        self.db.execute("DELETE FROM snapshots")

    def keep(self, rows: list[tuple[int, int, StoredEvent]]) -> None:
        self.db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", [
            (n, claim, _hex(s.originator_id), s.originator_version, s.topic, s.state) for n, claim, s in rows])

    def last_claim(self) -> UUID:
        """The id of the last record to write: the claim on the last new fact's event id."""
        (found,) = self.db.execute("SELECT originator_id FROM records ORDER BY n DESC, claim DESC LIMIT 1").fetchone()
        return UUID(found)

    def keep_snapshot(self, s: StoredEvent) -> None:
        self.db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?)",
                        (_hex(s.originator_id), s.originator_version, s.topic, s.state))

    def records(self, table: str = "records", order: str = "n, claim", uuids: bool = True) -> Iterator[list[StoredEvent]]:
        """The records kept, in the file's order, a batch at a time. ``uuids=False``: their
        originator ids as the SQLite recorder writes them (hex), not made into UUIDs and back."""
        with spooling():  # read in the store's write transaction: not to be taken for its failure
            cursor = self.db.execute(f"SELECT originator_id, version, topic, state FROM {table} ORDER BY {order}")
            while rows := cursor.fetchmany(BATCH):
                yield [StoredEvent(UUID(r[0]) if uuids else r[0], r[1], r[2], r[3]) for r in rows]

    def close(self) -> None:
        self.db.close()


def import_lines(open_app: Callable[[], Tracker], lines: Iterable[tuple[int, Fact]],
                 progress: Callable[[int, int | None], None] | None = None) -> Imported:
    """Record every line's fact, all or nothing, in the file's order (see the module's doc).

    ``open_app`` opens the store, once every line is read (or sooner, for a fact naming one
    recorded before): a file with a bad line leaves the store's files as they were.
    ``lines`` gives each line's number and fact. An error about a line says its number in
    ``line``."""
    opened: list[Tracker] = []

    def store() -> Tracker:
        if not opened:
            opened.append(open_app())
        return opened[0]

    with spooling():
        spool = Spool()
    try:
        with spooling():
            for n, fact in lines:
                try:
                    spool.add(n, _route(store, spool, fact), fact)
                except TrackerError as error:
                    raise refused(error, n) from None
                if progress and spool.count % 10_000 == 0:
                    progress(spool.count, None)
            spool.indexed()
        if not spool.count:
            return Imported()
        app = store()
        for _ in range(RETRIES):
            checked_at = app.recorder.max_notification_id()
            with spooling():
                result = _fold_streams(app, spool, progress)
                last_claim = spool.last_claim() if result.added else None
            if last_claim is None:
                return result
            if app.write_records(spool.records(uuids=app.store.is_postgres), checked_at, last_claim):
                _store_snapshots(app, spool)
                return result
            # another writer got there first: check again against what it wrote
        raise ConcurrentChange(f"other writers kept changing the store; nothing was written after {RETRIES} tries")
    finally:
        spool.close()


def _route(store: Callable[[], Tracker], spool: Spool, fact: Fact) -> str:
    """The stream a fact goes in: a correction or annotation goes where its target is, on an
    earlier line or in the store."""
    target = target_of(fact)
    if target is None:
        return fact.stream_key()
    key = spool.stream_of(target)
    if key is not None:
        return key
    claim = store().claims_on([target]).get(target)
    if claim is None:
        from tracker.application import VERBS

        raise UnknownEvent(f"no recorded event {target!r} to {VERBS[type(fact)]}")
    return claim.stream


def _fold_streams(app: Tracker, spool: Spool, progress: Callable[[int, int | None], None] | None) -> Imported:
    """Check and fold each stream with all its lines at once; keep its records in the spool."""
    spool.forget_records()
    try:
        return _fold_each_stream(app, spool, progress)
    except BaseException:
        app._forget_cached_streams()  # streams read from the store took facts never saved
        raise


def _fold_each_stream(app: Tracker, spool: Spool, progress: Callable[[int, int | None], None] | None) -> Imported:
    result = Imported()
    fresh = app.recorder.max_notification_id() is None
    meetings: dict[str, int | None] = {}  # a meeting's first line in the file (None: in the store)
    done = 0
    for key, _ in spool.streams():
        numbered = spool.facts_of(key)
        facts = [fact for _, fact in numbered]
        line_of: dict[str, int] = {}  # an event id's first line
        for number, fact in numbered:
            line_of.setdefault(fact.event_id, number)
        n: int | None = numbered[0][0]
        try:
            stream = app.load_or_start(key, facts[0], fresh)
            claims = {} if fresh else app.claims(facts)
            for n, fact in numbered:
                claim = claims.get(fact.event_id)
                if claim is not None and claim.stream != key:
                    raise DuplicateEventId(f"event id {fact.event_id!r} is already used in {claim.stream}")
                meeting = fact.__dict__.get("meeting_id")
                if isinstance(fact, CommitmentEvent) and meeting:
                    _check_meeting_held(app, spool, meetings, meeting, n, fresh)
                try:
                    appended = stream.append(fact, settle=False)
                except DuplicateEventId:
                    if line_of[fact.event_id] < n:  # not recorded: on an earlier line
                        raise DuplicateEventId(f"event id {fact.event_id!r} is used twice with other content:"
                                               f" on line {line_of[fact.event_id]} and on this one") from None
                    raise
                if appended is None:
                    result.unchanged += 1
                else:
                    result.added += 1
            n = None  # a check of the whole stream: the line is the one its message names
            stream.settle()
        except TrackerError as error:
            raise refused(error, n if n is not None else line_named(error, numbered)) from None
        if stream.has_pending:
            to_stored = cast(Callable[[Any], StoredEvent], app.mapper.to_stored_event)
            spool.keep([(line_of[e.event_id or ""], isinstance(e, EventIdClaimed), to_stored(e))
                        for e in stream.collect_events()])
            if app.snapshots and stream.snapshot_due:
                spool.keep_snapshot(to_stored(stream.snapshot()))
            stream.mark_saved()
        done += len(numbered)
        if progress:
            progress(done, spool.count)
    return result


def _check_meeting_held(app: Tracker, spool: Spool, meetings: dict[str, int | None], meeting: str, n: int,
                        fresh: bool) -> None:
    """A commitment cites a meeting held: recorded in the store, or opened on an earlier line."""
    key = Meeting.key_of(meeting)
    if key not in meetings:
        meetings[key] = 0 if not fresh and _in_store(app, meeting) else spool.first_line(key)
    first = meetings[key]
    if first is None or first > n:
        raise app.missing(key)


def _in_store(app: Tracker, meeting: str) -> bool:
    try:
        app.meeting(meeting)
    except UnknownMeeting:
        return False
    return True


def _store_snapshots(app: Tracker, spool: Spool) -> None:
    if not app.snapshots:
        return
    try:
        for batch in spool.records("snapshots", "rowid", uuids=app.store.is_postgres):
            app.snapshots.recorder.insert_events(batch)
    except (PersistenceError, StoreUnavailable):
        return  # the facts are saved: a snapshot only saves reading them, and a later write makes it


def line_named(error: Exception, numbered: list[tuple[int, Fact]]) -> int | None:
    """The line of the fact an error refuses: the one it names by event id, else the first
    that names the commitment, meeting or event it says is missing."""
    message = str(error)
    for number, fact in numbered:
        if message.startswith(f"{fact.event_id}:"):
            return number
    for number, fact in numbered:
        named = (getattr(fact, field, None) for field in ("commitment_id", "meeting_id", "corrects", "retracts"))
        if any(name and repr(name) in message for name in named):
            return number
    return None
