"""Rebuilding every read model from scratch, one stream at a time.

A catch-up reads facts in recording order, so a commitment that learns of something out
of world order, or has a fact corrected, is folded again from its timeline (most of a
large catch-up's time). Read stream by stream instead, each commitment is folded once,
in world order, and no state is read back from the tables being written.

Streams need nothing from each other, so on a large store two worker processes read,
decode and fold half of them each, and this process writes what they send.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

import sqlite_utils
from eventsourcing.sqlite import SQLiteApplicationRecorder

from events import CommitmentEvent, Fact
from events.errors import StoreUnavailable
from events.rules import evaluate
from projections.read import connect, damage, views_position
from projections.runner import (
    FACT_TOPICS_IN_ORDER,
    catch_up,
    count_identified,
    create_indexes,
    drop_indexes,
    open_views,
    store_identity,
    write_rows,
)
from projections.views import (
    as_shown,
    commitment_row,
    party_rows,
    stored_id,
    stored_state,
    stream_rows,
    timeline_row,
)
from projections.views_file import DamagedViews, claim, rebuilding, says_damaged

# Facts projected between commits: the rebuilt file's write-ahead log stays small.
COMMIT_EVERY = 20_000
# Facts whose rows are made and handed to the writer together.
BATCH_FACTS = 5_000
# Stored records (facts and their claims) from which worker processes pay for their start.
PARALLEL_FROM = 100_000
TABLES_WRITTEN = ("streams", "timeline", "commitments", "commitment_states", "commitment_parties",
                  "meetings", "meeting_reports", "indicators")


def rebuild(app: Any, path: Path, progress: Callable[[int], None] | None = None,
            workers: int | None = None, notice: Callable[[str], None] | None = None) -> int:
    """Build every read model from scratch beside the old file, then swap it in.

    ``progress`` is told how many facts are done (of ``count_facts(app)``); ``workers``:
    see ``project_streams``; ``notice``: told when this waits for another rebuild of the
    same file. Only a file of read models (or a damaged one) is replaced: see ``claim``."""
    claim(path, app.store)
    with rebuilding(path, notice):
        fresh = _temporary(path)
        leftovers = (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm"))
        try:
            db = open_views(fresh)
        except BaseException:
            fresh.unlink(missing_ok=True)
            raise
        try:
            # Nothing reads this file before it is complete: no page needs to reach the disk
            # before the end, nor a journal (an error removes it; a crash leaves it for the
            # next rebuild to remove). Waiting for the disk at every checkpoint took a third of
            # a large rebuild's time; writing each page twice (log, then file), a tenth of the rest.
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            count = project_streams(app, db, progress, workers)
            count += catch_up(app, db)  # what was recorded while the streams were read
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA journal_mode=WAL")
            db.close()
            with open(fresh, "rb+") as written:
                os.fsync(written.fileno())
            claim(path, app.store)  # still ours (or gone) now that it is replaced
        except BaseException:
            db.close()
            for leftover in leftovers:
                leftover.unlink(missing_ok=True)
            raise
        for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        os.replace(fresh, path)
    return count


def caught_up(app: Any, path: Path, notice: Callable[[str], None], known: Any = None) -> None:
    """Bring the read models at ``path`` up to the store's latest fact (see ``catch_up``); a
    damaged file is rebuilt from the events instead, saying so to ``notice``."""
    try:
        db = open_views(path, app.store)
        try:
            catch_up(app, db, known=known)
        finally:
            db.close()
        found = damage(path)
        if found:
            raise DamagedViews(path, found)
    except (DamagedViews, sqlite3.DatabaseError) as error:
        if not isinstance(error, DamagedViews) and not says_damaged(error):
            raise
        notice(f"the read-model file {path} was damaged; rebuilding it from the events")
        rebuild(app, path, notice=notice)


def _temporary(path: Path) -> Path:
    """A new, private file beside ``path`` that no other rebuild writes into."""
    fd, name = tempfile.mkstemp(prefix=path.name + ".rebuilding-", dir=path.parent)
    os.close(fd)
    return Path(name)


def project_streams(app: Any, db: sqlite_utils.Database, progress: Callable[[int], None] | None = None,
                    workers: int | None = None) -> int:
    """Fill empty read models from every fact stored up to now, stream by stream; returns how many.

    ``workers`` processes read, decode and fold the streams (half each, for two) while
    this one writes; by default two on a machine with two cores or more and a store of
    ``PARALLEL_FROM`` records or more."""
    last = app.recorder.max_notification_id() or 0
    if workers is None:
        workers = 2 if _cores() > 1 and last >= PARALLEL_FROM else 1
    workers = max(1, min(workers, 16))  # the id space is cut by its first hex digit
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store', ?)", [store_identity(app)])
    drop_indexes(db)  # built once at the end: 0.8 s of a 200,000-event rebuild
    batches = _batches_from_workers(type(app), app.store, last, workers) if workers > 1 else _batches(app, last)
    done = written = 0
    for tables, count in batches:
        for table, rows in tables.items():
            write_rows(db, table, rows, "INSERT OR REPLACE" if table == "meetings" else "INSERT")
        done += count
        if done - written >= COMMIT_EVERY:
            db.conn.commit()
            written = done
            if progress:
                progress(done)
    create_indexes(db)
    count_identified(db)
    db.execute("UPDATE positions SET position = ?", [last])
    db.conn.commit()
    if progress:
        progress(done)
    return done


def _cores() -> int:
    """Cores this process may run on (``taskset`` or a cpuset may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


RowBatch = tuple[dict[str, list[Any]], int]  # rows for each table, and how many facts they come from


def _batches(app: Any, last: int, part: tuple[int, int] = (0, 1)) -> Iterator[RowBatch]:
    """The read models' rows for the streams of ``part`` (k of n), a few thousand facts at a time."""
    rows = _Rows()
    count = 0
    for stream in _facts_by_stream(app, last, part):
        rows.add(stream)
        count += len(stream)
        if len(rows.tables["timeline"]) >= BATCH_FACTS:
            yield rows.take(), count
            count = 0
    yield rows.take(), count


def _worker(opening: Callable[[Any], Any], store: Any, last: int, part: tuple[int, int], results: Connection,
            writer: int) -> None:
    """A worker process: its part of the streams' rows, sent to the writer batch by batch.
    ``opening(store)`` opens the store as the writer's application was opened (its class)."""
    import gc

    _die_with(writer)
    gc.disable()  # as in bulk_work: the job makes no cyclic garbage worth the walks
    try:
        app = opening(store)
        for batch in _batches(app, last, part):
            results.send(batch)
        results.send(None)
    except BaseException as error:  # noqa: BLE001 - handed to the writer, which raises it
        try:
            results.send(error)
        except Exception:  # noqa: BLE001 - an error that cannot be pickled: its words, then
            results.send(RuntimeError(f"{type(error).__name__}: {error}"))
    finally:
        results.close()


def _die_with(writer: int) -> None:
    """Ends this worker as soon as the writer process ``writer`` is gone: killed, it would
    leave the worker blocked for minutes sending to a pipe that a sibling still holds open."""
    if sys.platform == "linux":
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    else:
        import threading
        import time

        def watch() -> None:
            while os.getppid() == writer:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != writer:  # gone before the request above
        os._exit(1)


def _batches_from_workers(opening: Callable[[Any], Any], store: Any, last: int, workers: int) -> Iterator[RowBatch]:
    """The rows of every stream, made by ``workers`` processes, as they arrive.

    Forked on Linux when this process runs no other thread (a SQLite store): a worker opens
    its own connections and never touches the ones it inherits. Otherwise (PostgreSQL's
    connection pool runs threads, which a fork does not copy) started afresh, which costs
    each worker 0.5 s of imports."""
    import threading

    forkable = sys.platform == "linux" and threading.active_count() == 1
    context: Any = multiprocessing.get_context("fork" if forkable else "spawn")
    processes: list[Any] = []
    pending: list[Any] = []
    try:
        for k in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(opening, store, last, (k, workers), sender, os.getpid()),
                                      daemon=True)
            process.start()
            sender.close()
            processes.append(process)
            pending.append(receiver)
        while pending:
            for ready in wait(pending):
                receiver = cast(Connection, ready)  # wait() gives back what it was given: pipe ends
                try:
                    message = receiver.recv()
                except EOFError:
                    raise StoreUnavailable("a rebuild worker stopped before it was done") from None
                if message is None:
                    pending.remove(receiver)
                elif isinstance(message, BaseException):
                    raise message
                else:
                    yield message
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()


class _Rows:
    """Rows of every read model, made a stream at a time."""

    def __init__(self) -> None:
        self.today = date.today()
        self.tables: dict[str, list[Any]] = {name: [] for name in TABLES_WRITTEN}

    def add(self, stream: list[tuple[int, Fact]]) -> None:
        first = stream[0][1]
        key = first.stream_key()
        facts = [fact for _, fact in stream]
        self.tables["streams"].append((stored_id(first), key))
        self.tables["timeline"].extend(
            timeline_row(position, fact, key, standing, shown, summary)
            for (position, fact), (shown, standing, summary) in zip(stream, as_shown(facts))
        )
        kind, subject = key.split(":", 1)
        if kind == "commitment":
            state = evaluate(subject, facts)
            if state.kind:  # registered
                self.tables["commitments"].append(commitment_row(state, self.today))
                self.tables["commitment_states"].append((subject, stored_state(state)))
                self.tables["commitment_parties"].extend(party_rows(state))
        elif not isinstance(first, CommitmentEvent):
            for table, made in stream_rows(facts).items():
                self.tables[table].extend(made)

    def take(self) -> dict[str, list[Any]]:
        tables = {table: rows for table, rows in self.tables.items() if rows}
        self.tables = {name: [] for name in TABLES_WRITTEN}
        return tables


def count_facts(app: Any) -> int:
    """How many facts the store holds (its other records are event-id claims): those its
    read models hold when they are this store's, and those recorded since; else counted in
    the store, which reads every record (0.3 to 0.8 s of a 200,000-event rebuild)."""
    last = app.recorder.max_notification_id() or 0
    views: Path | None = getattr(app.store, "views", None)
    built = views_position(views) if views is not None else None
    if views is not None and built is not None and built[1] == store_identity(app) and built[0] <= last:
        try:
            with connect(views) as db:
                held = db.execute("SELECT COUNT(*) FROM timeline").fetchone()[0]
        except sqlite3.Error:
            pass
        else:
            return held + next(_stored_rows(app, last, count_only=True, after=built[0]))[0]
    return next(_stored_rows(app, last, count_only=True))[0]


def _facts_by_stream(app: Any, last: int, part: tuple[int, int] = (0, 1)) -> Iterator[list[tuple[int, Fact]]]:
    """Every fact stored up to notification ``last`` in the streams of ``part``, a stream at
    a time, in stream order."""
    mapper = app.mapper
    convert = getattr(app.recorder, "convert_originator_id", None)  # PostgreSQL gives UUIDs already
    stream: list[tuple[int, Fact]] = []
    current = oid = None
    for position, originator_id, version, topic, state in _stored_rows(app, last, part):
        if originator_id != current:
            if stream:
                yield stream
            stream, current = [], originator_id
            oid = convert(originator_id) if convert else originator_id  # once a stream: 5 us each
        stream.append((position, mapper.event_from(oid, version, topic, state)))
    if stream:
        yield stream


def _id_range(part: tuple[int, int]) -> tuple[str | None, str | None]:
    """The stream ids (as hex) of part k of n: the id space cut by its first hex digit."""
    k, n = part
    return (f"{16 * k // n:x}".ljust(32, "0") if k else None,
            f"{16 * (k + 1) // n:x}".ljust(32, "0") if k < n - 1 else None)


def _stored_rows(app: Any, last: int, part: tuple[int, int] = (0, 1),
                 count_only: bool = False, after: int = 0) -> Iterator[tuple[Any, ...]]:
    """The store's fact records after ``after`` up to ``last`` in the streams of ``part``,
    ordered by stream and version, read as they are needed (a server-side cursor on
    PostgreSQL): memory stays flat however large the store."""
    recorder = app.recorder
    table = recorder.events_table_name
    low, high = _id_range(part)
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" * len(FACT_TOPICS_IN_ORDER))
        what = "COUNT(*)" if count_only else "rowid, originator_id, originator_version, topic, state"
        order = "" if count_only else " ORDER BY originator_id, originator_version"
        where = "".join([" AND originator_id >= ?" if low else "", " AND originator_id < ?" if high else ""])
        with recorder.datastore.transaction(commit=False) as wrapped:
            cursor = wrapped.sqlite_cursor  # the library's wrapper cannot fetch a page at a time
            cursor.row_factory = None  # plain tuples
            cursor.execute(f"SELECT {what} FROM {table} WHERE rowid > ? AND rowid <= ? AND topic IN ({marks}){where}{order}",
                           [after, last, *FACT_TOPICS_IN_ORDER, *(bound for bound in (low, high) if bound)])
            while page := cursor.fetchmany(1000):
                yield from page
        return
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    what = "COUNT(*)" if count_only else "notification_id, originator_id, originator_version, topic, state"
    order = "" if count_only else " ORDER BY originator_id, originator_version"
    where = "".join([" AND originator_id >= %s::uuid" if low else "", " AND originator_id < %s::uuid" if high else ""])
    statement = SQL("SELECT " + what + " FROM {schema}.{table}"
                    " WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s)" + where + order).format(
        schema=Identifier(recorder.datastore.schema), table=Identifier(table))
    with recorder.datastore.get_connection() as conn, conn.transaction(), \
            conn.cursor(name="tracker_rebuild", row_factory=tuple_row) as cursor:
        cursor.itersize = 2000
        cursor.execute(statement, [after, last, FACT_TOPICS_IN_ORDER, *(bound for bound in (low, high) if bound)])
        yield from cursor
