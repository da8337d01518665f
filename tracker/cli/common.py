"""Options and helpers shared by the command modules."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from events.errors import InvalidInput, StoreUnavailable
from tracker.config import Store

if TYPE_CHECKING:
    from tracker.application import Tracker

# What SQLite says when a read-model file cannot be written: the disk or its permissions.
CANNOT_WRITE = ("full", "disk i/o", "readonly", "read-only", "unable to open", "locked")

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="World date: show where things stood on that day (YYYY-MM-DD).",
        show_default=False,
    ),
]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        help="Recording time: show only what had been recorded by then"
        " (YYYY-MM-DD or an ISO timestamp, UTC unless it says otherwise).",
        show_default=False,
    ),
]


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None


def parse_known_at(value: str | None, option: str = "--known-at") -> datetime | None:
    """A recording moment: an ISO timestamp (UTC unless it says otherwise), or a date,
    meaning the end of that day (UTC): what had been recorded by the end of it."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} {value!r} is not a date or ISO timestamp") from None
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def store(ctx: typer.Context) -> Store:
    """The store the command line names (--db and --views, before or after the command name),
    resolved on first use. A command that only reads is refused a store that does not exist,
    rather than making an empty one; a read-model file not ours is refused before anything is
    recorded."""
    import os

    from projections.views_file import claim
    from tracker.cli import STORE_CHOICE, WRITING_COMMANDS
    from tracker.config import resolve_store

    root = ctx.find_root()
    if root.obj is None:
        chosen = root.meta.get(STORE_CHOICE, {})
        resolved = resolve_store(chosen.get("db"), chosen.get("views"))
        if (not resolved.is_postgres and not os.path.exists(resolved.location)
                and root.invoked_subcommand not in WRITING_COMMANDS):
            raise NoStore(f"no store at {resolved.location}: 'tracker demo' loads an example into it,"
                          " 'tracker import FILE' or 'tracker record ...' starts one (or name another with --db)")
        claim(resolved.views, resolved)
        root.obj = resolved
    return root.obj


class NoStore(StoreUnavailable):
    """A command that only reads, on a store that does not exist (exit 6); nothing is created."""


def open_tracker(ctx: typer.Context) -> Tracker:
    from tracker.application import Tracker

    return opened(lambda: Tracker(store(ctx)), store(ctx))


def _library_database_error() -> type[Exception]:
    from eventsourcing.persistence import DatabaseError  # what eventsourcing makes of SQLite's

    return DatabaseError


def opened(open_store: Any, where: Store) -> Any:
    """``open_store()``, with what stops a store from opening (a folder that cannot be written,
    a file that is not a database) said as 'store unavailable' (exit 6) and what to do."""
    try:
        return open_store()
    except OSError as error:  # a folder that cannot be made or written: permissions, read-only, a file in the way
        if error.strerror is None:
            raise
        raise StoreUnavailable(f"cannot open the store {where.label}: {error.strerror}"
                               f" ({error.filename or where.location}): allow writing there, or name another"
                               " store with --db or $TRACKER_DB") from None
    except (sqlite3.DatabaseError, _library_database_error(), StoreUnavailable) as error:
        said = str(error)
        if "not a database" not in said and "malformed" not in said:
            raise
        remedy = "'tracker verify' names the damage" if "malformed" in said else "is it the right file? (--db, $TRACKER_DB)"
        if not said.startswith("cannot open the store"):
            said = f"cannot open the store {where.label}: {said}"
        raise StoreUnavailable(f"{said}: {remedy}") from None


def refuse_overwriting_store(ctx: typer.Context, target: str | Path) -> None:
    """InvalidInput if an output file would be the store, the read models or one of their journals."""
    from projections.files import refuse_overwriting

    s = store(ctx)
    refuse_overwriting(Path(target), *([] if s.is_postgres else [Path(s.location)]), s.views)


def say(message: str) -> None:
    """A message for the person at the terminal: stderr, never mixed with data."""
    sys.stdout.flush()
    sys.stderr.write(message + "\n")


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pauses Python's cycle collector during a bulk job: it keeps walking the hundreds of
    thousands of live facts an import holds, and the job makes no cyclic garbage worth
    collecting."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # The job's objects are still alive: left to the collector, the first collection
            # after this would walk them all. Refcounting still frees them.
            gc.freeze()
            gc.enable()


# Facts recorded at once from which the read models may be built again rather than caught up.
REBUILD_FROM = 10_000


def progress_bar(total: int, label: str) -> Any:
    """A rich progress bar on stderr, shown only for long jobs on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=total < 5000 or not console.is_terminal,
        transient=True,
    )


def catch_up_views(ctx: typer.Context, app: Tracker | None = None, recorded: Any = None,
                   added: int = 0) -> Path:
    """Bring the read models up to the store's latest event and return their file.

    ``added``: how many facts were just recorded. When they are many beside what the read
    models hold (or they hold nothing), the read models are built again from the streams,
    each folded once, instead: catching up folds a commitment again for each page of facts."""
    from projections.read import views_position
    from projections.rebuild import caught_up
    from tracker.config import SQLITE_LOCK_TIMEOUT
    from tracker.locks import wait_for_sqlite_writer

    s = store(ctx)
    app = app or open_tracker(ctx)
    seen = views_position(s.views)
    last = app.recorder.max_notification_id() or 0
    if seen is not None and seen[0] < last:
        wait_for_sqlite_writer(s.views, "the read models", SQLITE_LOCK_TIMEOUT)
    # Catching up costs about four times what building does, a fact: build when the new facts
    # are a quarter of the store or more.
    if added >= REBUILD_FROM and (seen is None or 4 * (last - seen[0]) >= last):
        from projections.rebuild import count_facts, rebuild

        label, total = "building the read models", count_facts(app)
        with progress_bar(total, label) as bar:
            task = bar.add_task(label, total=total)
            rebuild(app, s.views, progress=lambda done: bar.update(task, completed=done), notice=say)
    else:
        caught_up(app, s.views, say, known=recorded)
    return s.views


def catch_up_after_recording(ctx: typer.Context, app: Tracker, recorded: Any, added: int = 0) -> bool:
    """Catch the read models up with facts just recorded. The facts are in the store whatever
    happens here, so a failure is a warning, not an error: the next command that reads the
    read models catches them up. Returns whether they caught up."""
    import os

    try:
        catch_up_views(ctx, app, recorded, added)
    except Exception as error:  # noqa: BLE001 - whatever it is, the record stands
        if os.environ.get("TRACKER_DEBUG"):
            raise
        reason = (str(error).strip().splitlines() or [""])[0].split(";")[0].strip() or type(error).__name__
        warn(f"the read models lag behind the store ({reason}): the next command catches them up,"
             " or run 'tracker rebuild'")
        return False
    return True


def warn(message: str) -> None:
    """One line on stderr about something that did not stop the command."""
    say(f"tracker: warning: {' '.join(message.split())}")


def fresh_views(ctx: typer.Context) -> Path:
    """The read-model file, caught up first only when the store has moved on."""
    from projections.read import damage, store_position, views_position

    s = store(ctx)
    seen = views_position(s.views)
    if seen is not None and not s.is_postgres and store_position(s.location) == seen and not damage(s.views):
        from tracker.key_check import check_sqlite_store

        check_sqlite_store(s.location, s.key_variable)  # as every command that opens the store does
        return s.views
    try:
        return catch_up_views(ctx)
    except (sqlite3.OperationalError, StoreUnavailable) as error:
        # On a full disk even opening a SQLite store can fail (it makes its shared-memory file).
        if not any(word in str(error).lower() for word in CANNOT_WRITE):
            raise
        if seen is None:
            raise StoreUnavailable(f"cannot write the read-model file {s.views} ({error}):"
                                   " free some space or allow writing there, then run the command again") from None
        warn(f"the read models could not be brought up to date ({error}); what follows may be stale")
        return s.views


@contextmanager
def reading_views(ctx: typer.Context, as_of: date | None = None) -> Iterator[sqlite3.Connection]:
    """The read models, up to date, for queries; a file found damaged while they run is named, with the remedy.
    The answer's basis is their position (and ``as_of``, the world date the query asks about)."""
    from projections import read
    from projections.views_file import DamagedViews, says_damaged
    from tracker.cli.output import note_basis

    path = fresh_views(ctx)
    try:
        with read.connect(path) as db:
            note_basis(db.execute("SELECT MIN(position) FROM positions").fetchone()[0] or 0,
                       as_of=as_of.isoformat() if as_of else None)
            yield db
    except sqlite3.DatabaseError as error:
        if says_damaged(error):
            raise DamagedViews(path, str(error)) from None
        raise
