"""Raw access to stored rows, to play the part of someone editing the database by hand."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql://")


@contextmanager
def connect(url: str):
    """A DB-API connection to the store and the qualified events table with its columns."""
    if is_postgres(url):
        import psycopg

        parts = urlsplit(url)
        schema = parse_qs(parts.query)["schema"][0]
        conn = psycopg.connect(url.split("?")[0], autocommit=False)
        try:
            yield conn, f"{schema}.tracker_events", "notification_id", "%s"
            conn.commit()
        finally:
            conn.close()
    else:
        conn = sqlite3.connect(url)
        try:
            yield conn, "stored_events", "rowid", "?"
            conn.commit()
        finally:
            conn.close()


def fact_rows(url: str) -> list[tuple]:
    """(position, originator_id, version, topic, state) of every stored fact, in order."""
    from events import FACT_TOPICS

    with connect(url) as (conn, table, position, _):
        cur = conn.execute(f"SELECT {position}, originator_id, originator_version, topic, state FROM {table}"
                           f" ORDER BY {position}")
        return [tuple(r) for r in cur.fetchall() if r[3] in FACT_TOPICS]


def made(url: str) -> bool:
    """Whether the store has been made (an import refused or killed before its write makes none)."""
    if not is_postgres(url):
        return Path(url).exists()
    with connect(url) as (conn, table, _, _):
        return conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is not None


def stored_facts(url: str) -> list[tuple]:
    """``fact_rows``, none for a store not made."""
    return fact_rows(url) if made(url) else []


def execute(url: str, sql: str, params: list) -> None:
    with connect(url) as (conn, table, position, mark):
        conn.execute(sql.format(table=table, position=position, p=mark), params)


def fingerprint(url: str) -> str:
    """What must not change when bad input is refused: the file's bytes, or every row."""
    if is_postgres(url):
        with connect(url) as (conn, table, position, _):
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY {position}").fetchall()
        return hashlib.sha256(repr(rows).encode()).hexdigest()
    digest = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = Path(url + suffix)
        digest.update(path.read_bytes() if path.exists() else b"<none>")
    return digest.hexdigest()


def edit_snapshot(path: str, edit) -> None:  # noqa: ANN001
    """Change the one snapshot stored in a SQLite store, as ``edit`` changes its JSON."""
    import orjson

    with sqlite3.connect(path) as db:
        (state,) = db.execute("SELECT state FROM stored_snapshots").fetchone()
        snapshot = orjson.loads(state)
        edit(snapshot)
        db.execute("UPDATE stored_snapshots SET state = ?", [orjson.dumps(snapshot)])
