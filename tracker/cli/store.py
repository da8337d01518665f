"""Commands about the store itself: verify it, follow it, make an encryption key."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from tracker.cli import app
from tracker.cli.common import open_tracker, say, store
from tracker.errors import TrackerError


class TamperingFound(TrackerError):
    exit_code = 8


@app.command(epilog="Example:\n\n  tracker verify")
def verify(ctx: typer.Context) -> None:
    """Check that the stored history was not altered outside the tracker: every event's seal,
    its place in its stream and its id claim. Names the first event that fails (exit 8)."""
    from tracker.verify import verify as check

    report = check(open_tracker(ctx))
    if report.problems:
        more = f" ({len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        raise TamperingFound(f"{report.problems[0]}{more}")
    unsealed = f", {report.unsealed} recorded before sealing not checked" if report.unsealed else ""
    say(f"verified {report.events} events in {report.streams} streams: intact{unsealed}")


@app.command(epilog="Examples:\n\n  tracker --db postgresql://tracker@db.example/tracker follow\n\n"
             "  tracker follow --interval 5")
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

    from projections.runner import catch_up, open_views, position
    from tracker.errors import StoreUnavailable

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
                    say(f"{'following' if first else 'back on'} {label}: caught up {done} new events,"
                        f" now at {position(db)}")
                elif done:
                    say(f"caught up {done} new events, now at {position(db)}")
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
                                           f" gave up at {position(db)}") from None
                pause = min(wait, retry_for - away)
                say(f"lost the store ({reason}): retrying in {round(pause, 1):g} s")
                time.sleep(pause)
                wait = min(wait * 2, 30.0)
    except KeyboardInterrupt:
        if lost:
            raise StoreUnavailable(f"lost the store {label} ({lost[1]}): interrupted at {position(db)}") from None
    finally:
        db.close()
    say(f"stopped at {position(open_views(store(ctx).views))}")


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
                    say(f"caught up {done} new events, now at {position(db)}")
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
