"""Commands about the store itself: verify it, follow it, make an encryption key, change it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from events.errors import TrackerError
from tracker.cli import app
from tracker.cli.common import open_tracker, say, store


class TamperingFound(TrackerError):
    exit_code = 8


@app.command(epilog="Example:\n\n  tracker verify")
def verify(ctx: typer.Context) -> None:
    """Check that the stored history was not altered outside the tracker: the store file's own
    integrity (SQLite), every event's seal, its place in its stream and its id claim. Names
    the first problem found (exit 8)."""
    from events.errors import StoreUnavailable
    from tracker.verify import database_problems
    from tracker.verify import verify as check

    try:
        app_ = open_tracker(ctx)
    except StoreUnavailable as error:
        if "malformed" not in str(error):
            raise
        problems = database_problems(store(ctx).location) or ["the store file is damaged: its events cannot be read"]
        raise TamperingFound(problems[0] + (f" ({len(problems) - 1} more problems)" if len(problems) > 1 else "")) from None

    report = check(app_)
    if report.problems:
        more = f" ({len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        raise TamperingFound(f"{report.problems[0]}{more}")
    unsealed = f", {report.unsealed} recorded before sealing not checked" if report.unsealed else ""
    say(f"verified {report.events} events in {report.streams} streams: intact{unsealed}")


@app.command(epilog="Examples:\n\n  tracker follow\n\n  tracker follow --interval 5\n\n"
             "On a shared PostgreSQL store: tracker --db postgresql://USER@HOST/DB follow")
def follow(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between polls of a SQLite store.")] = 1.0,
    retry_for: Annotated[float, typer.Option(
        min=0, help="How long to keep retrying, from when the store went away, before giving up (exit 6).")] = 600.0,
    stop_after: Annotated[float | None, typer.Option(hidden=True, help="Stop after this many seconds (tests).")] = None,
) -> None:
    """Keep the local read models up to date with the store until interrupted (Ctrl-C),
    resuming where they stopped. PostgreSQL stores push new events (LISTEN/NOTIFY);
    SQLite stores are polled. When the store goes away, retries with growing waits and
    resumes from where it was."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    from events.errors import StoreUnavailable
    from projections.runner import catch_up, open_views

    tracker = open_tracker(ctx)
    label = store(ctx).label
    db = open_views(store(ctx).views)
    started = time.monotonic()
    lost: tuple[float, str] | None = None  # since when, and why
    wait = 1.0

    def expired() -> bool:
        return stop_after is not None and time.monotonic() - started > stop_after

    try:
        first = True
        while not expired():
            try:
                if lost:
                    _answers(store(ctx))
                done = catch_up(tracker, db)
                if first or lost:
                    say(f"{'following' if first else 'back on'} {label}: caught up {done} new events;"
                        f" {in_all(db)}")
                elif done:
                    say(f"caught up {done} new events; {in_all(db)}")
                first, lost, wait = False, None, 1.0
                if store(ctx).is_postgres:
                    _follow_notifications(tracker, db, stop_after, expired)
                else:
                    time.sleep(interval)
            except (OperationalError, InterfaceError) as error:
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                lost = (lost[0] if lost else time.monotonic(), reason)
                away = time.monotonic() - lost[0]
                if away >= retry_for:
                    raise StoreUnavailable(f"lost the store {label} ({reason}) for {away:.0f} s:"
                                           f" gave up with {in_all(db)}") from None
                pause = min(wait, retry_for - away)
                say(f"lost the store ({reason}): retrying in {round(pause, 1):g} s")
                time.sleep(pause)
                wait = min(wait * 2, 30.0)
    except KeyboardInterrupt:
        if lost:
            raise StoreUnavailable(f"lost the store {label} ({lost[1]}): interrupted with {in_all(db)}") from None
    finally:
        db.close()
    say(f"stopped with {in_all(open_views(store(ctx).views))}")


def in_all(db) -> str:  # noqa: ANN001
    """How many events the read models hold (the store's positions count other records too)."""
    count = db.execute("SELECT count(*) FROM timeline").fetchone()[0]
    return f"{count} event{'' if count == 1 else 's'} in all"


def _answers(s) -> None:  # noqa: ANN001
    """Raise OperationalError unless a PostgreSQL store accepts a connection within 3 s: while
    it is away, the store's own reads wait for it up to a minute before failing."""
    if not s.is_postgres:
        return
    import psycopg
    from eventsourcing.persistence import OperationalError

    env = s.environment()
    try:
        psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None, connect_timeout=3).close()
    except psycopg.Error as error:
        raise OperationalError(str(error)) from None


def _follow_notifications(tracker, db, stop_after, expired) -> None:  # noqa: ANN001
    """Catch up whenever the store announces new events, until ``expired()`` or an error."""
    from projections.runner import catch_up, position

    with tracker.recorder.subscribe(gt=position(db)) as subscription:
        watchdog = _stop_later(subscription, stop_after)
        try:
            for notification in subscription:
                if notification.id > position(db):
                    done = catch_up(tracker, db)
                    say(f"caught up {done} new events; {in_all(db)}")
                if expired():
                    break
        finally:
            if watchdog:
                watchdog.cancel()


def _stop_later(subscription, seconds):  # noqa: ANN001, ANN202
    if seconds is None:
        return None
    import threading

    timer = threading.Timer(seconds, subscription.stop)
    timer.daemon = True
    timer.start()
    return timer


@app.command(epilog="Example:\n\n  export TRACKER_CIPHER_KEY=$(tracker keygen)")
def keygen() -> None:
    """Print a new random key for encrypting event payloads at rest. Set it as
    TRACKER_CIPHER_KEY for every command on that store; without it nothing can be read."""
    from eventsourcing.cipher import AESCipher

    print(AESCipher.create_key(num_bytes=32))


@app.command("rotate-key", epilog="Example (the store's key in TRACKER_CIPHER_KEY):\n\n"
             "  export TRACKER_NEW_CIPHER_KEY=$(tracker keygen)\n\n"
             "  tracker --db tracker.db rotate-key --to tracker-rekeyed.db")
def rotate_key(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", metavar="NEW_STORE", show_default=False,
                                    help="A new, empty store: a SQLite file or a PostgreSQL URL.")],
) -> None:
    """Copy every event into a new store under the key in TRACKER_NEW_CIPHER_KEY (unset: in
    clear text), all or nothing, and verify the copy. The store itself is left unchanged:
    once the copy is verified, use the new store and key and delete the old store. With
    TRACKER_CIPHER_KEY unset it encrypts a clear-text store."""
    import dataclasses
    import os

    from events.errors import InvalidInput
    from tracker.application import Tracker
    from tracker.config import resolve_store
    from tracker.key_check import valid_key
    from tracker.keys import NEW_KEY_VARIABLE, copy_under_new_key
    from tracker.verify import verify as check

    old = store(ctx)
    new = dataclasses.replace(resolve_store(to), key_variable=NEW_KEY_VARIABLE)
    new_key = valid_key(NEW_KEY_VARIABLE)
    if new_key == valid_key(old.key_variable):
        raise InvalidInput(f"{NEW_KEY_VARIABLE} is the store's key already: set it to a new one ('tracker keygen')")
    same_file = not old.is_postgres and not new.is_postgres and os.path.realpath(old.location) == os.path.realpath(new.location)
    if old.location == new.location or same_file:
        raise InvalidInput("--to names the store itself: give a new, empty store")
    created = not new.is_postgres and not os.path.exists(new.location)
    source = open_tracker(ctx)
    try:
        target = Tracker(new)
        copied = copy_under_new_key(source, target)
        target.close()
        report = check(Tracker(new))
        if report.problems:
            raise TrackerError(f"the copy in {new.label} does not verify ({report.problems[0]});"
                               f" {old.label} is unchanged")
    except BaseException:
        if created:
            for suffix in ("", "-wal", "-shm"):
                Path(new.location + suffix).unlink(missing_ok=True)
        raise
    under = f"under the key in {NEW_KEY_VARIABLE}" if new_key else "in clear text"
    say(f"copied {copied} records ({report.events} events) to {new.label} {under} and verified them;"
        f" {old.label} is unchanged: switch to the new store and key, then delete it")
