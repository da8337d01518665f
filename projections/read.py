"""Queries on the read models with the standard library only, so reading stays quick."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from projections.schema import built_here

BOARD_COLUMNS = [
    "commitment_id",
    "kind",
    "title",
    "parties",
    "meeting_id",
    "sector",
    "legal_status",
    "legal_since",
    "implementation_status",
    "last_change_on",
    "last_change",
    "next_step",
    "next_step_due",
    "lifecycle",
    "progress",
    "value",
    "sources",
    "official_sources",
    "open_claims",
    "overdue",  # last: the query computes it after the others
]
# What a commitment carried by more than one instrument adds to its board row (None otherwise):
# the current instrument and the chain (see projections.views.instrument_chain).
CHAIN_COLUMNS = ["instrument", "instrument_id", "instruments"]


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """The read models, read-only, closed on leaving. (sqlite3's own ``with`` only commits: a
    connection left open past the writer's keeps the writer from folding the write-ahead log
    back into the file when it closes, and every later read then indexes the whole log
    again, 0.2 s a connection after a 100,000-event import.)"""
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)  # quoted: a name may hold ? or #
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=60000")
        yield db
    finally:
        db.close()


# Read-model files up to this size are checked (PRAGMA quick_check) before each read: about
# 1 ms a megabyte, so 8 ms at most; the 120 MB file of 200,000 events would take 0.12 s, as
# long as the whole read. Larger files are judged damaged when SQLite says so.
QUICK_CHECK_UP_TO = 8 * 1024 * 1024


def damage(path: Path) -> str | None:
    """What SQLite's quick check finds wrong in a small read-model file (None: nothing, or not checked)."""
    try:
        if path.stat().st_size > QUICK_CHECK_UP_TO:
            return None
        with connect(path) as db:
            found = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as error:
        return str(error)
    except OSError:
        return None
    return None if found == "ok" else found


def views_position(path: Path) -> tuple[int, str | None] | None:
    """Position of the read models and the store they were built from, or None if not built."""
    if not path.exists():
        return None
    try:
        with connect(path) as db:
            row = db.execute("SELECT MIN(position) FROM positions").fetchone()
            store = db.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error:
        return None
    if not built_here(meta):
        return None  # made by another version: to be built again
    return (row[0] or 0, store[0] if store else None) if row else None


def store_position(location: str) -> tuple[int, str | None] | None:
    """Latest notification id and identity of a SQLite store, without the event library."""
    if not Path(location).exists():
        return (0, None)
    try:
        db = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
        try:
            last = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
            first = db.execute(
                "SELECT rowid, originator_id, originator_version FROM stored_events"
                " ORDER BY rowid LIMIT 1"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return (0, None)
        return None
    if not first:
        return (last, None)
    from uuid import UUID

    return (last, f"{first[0]}:{UUID(first[1])}:{first[2]}")


def board(
    db: sqlite3.Connection,
    today: date,
    *,
    party: str | None = None,
    institution: str | None = None,
    sector: str | None = None,
    meeting: str | None = None,
    overdue_only: bool = False,
) -> list[dict[str, Any]]:
    """The status board's rows (see BOARD_COLUMNS), filtered."""
    where = []
    if party:
        where.append("commitment_id IN (SELECT commitment_id FROM commitment_parties WHERE country = :party)")
    if institution:
        where.append(
            "commitment_id IN (SELECT commitment_id FROM commitment_parties"
            " WHERE institution LIKE :institution ESCAPE '\\')"
        )
    if sector:
        where.append("sector = :sector")
    if meeting:
        where.append("meeting_id = :meeting")
    overdue = "(next_step_due_by IS NOT NULL AND next_step_due_by < :today)"
    if overdue_only:
        where.append(overdue)
    columns = ", ".join([*(c if c != "overdue" else overdue for c in BOARD_COLUMNS), *CHAIN_COLUMNS])
    sql = f"SELECT {columns} FROM commitments"
    if where:
        sql += " WHERE " + " AND ".join(where)
    params = {
        "today": today.isoformat(),
        "party": party.upper() if party else None,
        "institution": f"%{_escape_like(institution)}%" if institution else None,
        "sector": sector,
        "meeting": meeting,
    }
    cursor = db.cursor()
    cursor.row_factory = None  # plain tuples: a board of thousands of rows is read on every call
    rows = [dict(zip(BOARD_COLUMNS + CHAIN_COLUMNS, row))
            for row in cursor.execute(sql + " ORDER BY commitment_id", params)]
    for item in rows:
        item["overdue"] = bool(item["overdue"])
        if item["progress"] is not None:
            item["progress"] = json.loads(item["progress"])
    return rows


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


TIMELINE_COLUMNS = [
    "occurred_on",
    "event_id",
    "type",
    "subject",
    "summary",
    "source_title",
    "source_publisher",
    "source_published_on",
    "source_address",
    "sources",
    "recorded_at",
    "standing",
    "note",
]


def timeline(
    db: sqlite3.Connection, *, stream: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM timeline"
    params: list[Any] = []
    if stream:
        sql += " WHERE stream = ?"
        params.append(stream)
    sql += " ORDER BY starts_on, rank, position"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [dict(row) for row in db.execute(sql, params)]


def commitment_exists(db: sqlite3.Connection, commitment_id: str) -> bool:
    return (
        db.execute("SELECT 1 FROM commitments WHERE commitment_id = ?", [commitment_id]).fetchone()
        is not None
    )


def instrument_chain(db: sqlite3.Connection, commitment_id: str) -> str | None:
    """The chain of instruments that carried a commitment, when more than one did."""
    row = db.execute("SELECT instruments FROM commitments WHERE commitment_id = ?", [commitment_id]).fetchone()
    return row[0] if row else None


def relations_to_unrecorded(db: sqlite3.Connection, commitment_id: str) -> set[str]:
    """The event ids of a commitment's relations to commitments not recorded (yet)."""
    return {row[0] for row in db.execute(
        "SELECT event_id FROM timeline WHERE stream = ? AND type = 'CommitmentsRelated'"
        " AND json_extract(payload, '$.other_commitment_id') NOT IN (SELECT commitment_id FROM commitments)",
        [f"commitment:{commitment_id}"])}


def parties(db: sqlite3.Connection, today: date) -> list[dict[str, Any]]:
    sql = """
        WITH c AS (
            SELECT *, (next_step_due_by IS NOT NULL AND next_step_due_by < ?) AS late
            FROM commitments
        )
        SELECT p.country, '' AS institution, COUNT(DISTINCT c.commitment_id) AS commitments,
               SUM(c.legal_status != 'not signed') AS signed,
               SUM(c.legal_status = 'in force') AS in_force,
               SUM(c.implementation_status IN ('completed', 'in effect', 'operating', 'active')) AS completed,
               SUM(c.late) AS overdue
        FROM (SELECT DISTINCT commitment_id, country FROM commitment_parties) p
        JOIN c USING (commitment_id) GROUP BY p.country
        UNION ALL
        SELECT p.country, p.institution, COUNT(DISTINCT c.commitment_id),
               SUM(c.legal_status != 'not signed'), SUM(c.legal_status = 'in force'),
               SUM(c.implementation_status IN ('completed', 'in effect', 'operating', 'active')), SUM(c.late)
        FROM commitment_parties p JOIN c USING (commitment_id)
        WHERE p.institution != '' GROUP BY p.country, p.institution
        ORDER BY 1, 2
    """
    return [dict(row) for row in db.execute(sql, [today.isoformat()])]


def meetings(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = []
    for meeting in db.execute("SELECT * FROM meetings ORDER BY occurred_on, meeting_id"):
        reports = db.execute(
            "SELECT count, source_title, source_publisher, source_published_on, sources, unnamed, value"
            " FROM meeting_reports WHERE meeting_id = ? ORDER BY occurred_on, event_id",
            [meeting["meeting_id"]],
        ).fetchall()
        rows.append(meeting_summary(dict(meeting), [dict(r) for r in reports], money_total(db.execute(
            "SELECT value_amount, value_currency FROM commitments"
            " WHERE meeting_id = ? AND value_amount IS NOT NULL", [meeting["meeting_id"]]).fetchall())))
    return rows


def meeting_summary(meeting: dict[str, Any], reports: list[dict[str, Any]],
                    contracts_worth: str | None = None) -> dict[str, Any]:
    """A meeting's row in 'tracker meetings', from its ``meetings`` row, its reports'
    ``meeting_reports`` rows (ordered by occurred_on, event_id) and the total of its
    commitments' values (``money_total``)."""
    claims = [
        f"{r['count']} reported" + (f" worth {r['value']}" if r["value"] else "")
        + f" ({r['source_title'] or 'no source'}"
        + (f", {r['source_publisher']}" if r["source_publisher"] else "")
        + (f"; +{more} more" if (more := (r["sources"] or "").count("\n")) else "")
        + ")"
        for r in reports
    ]
    return {
        "meeting_id": meeting["meeting_id"],
        "title": meeting["title"],
        "occurred_on": meeting["occurred_on"],
        "place": meeting["place"],
        "reported": "; ".join(claims) if claims else "no count reported",
        "identified": meeting["identified"],
        "summary": ", ".join(f"{r['count']} reported" for r in reports)
        + (", " if reports else "")
        + f"{meeting['identified']} identified",
        "unnamed": "; ".join(r["unnamed"] for r in reports if r["unnamed"]) or None,
        "contracts_worth": contracts_worth,
    }


def short_progress(progress: dict[str, str] | None) -> str | None:
    """Each side's progress in one line: "KZ: opened 2025-09; CN: no evidence"."""
    return "; ".join(f"{country}: {side}" for country, side in progress.items()) if progress else None


def money_total(values: Iterable[tuple[str, str]]) -> str | None:
    """The sum of independent amounts (each a commitment's standing value, counted once),
    per currency and never converted: "100,000,000 USD + 5,000,000 CNY (3 commitments)"."""
    from decimal import Decimal

    totals: dict[str, Decimal] = {}
    count = 0
    for amount, currency in values:
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
        count += 1
    if not totals:
        return None
    summed = " + ".join(f"{totals[c]:,.0f} {c}" for c in sorted(totals))
    return f"{summed} ({count} commitment{'s' if count > 1 else ''})"


INDICATOR_COLUMNS = ["period", "reporter", "partner", "flow", "value", "currency", "change_pct", "occurred_on",
                     "source_title", "source_publisher", "event_id"]


def indicators(db: sqlite3.Connection) -> list[dict[str, Any]]:
    sql = (f"SELECT {', '.join(INDICATOR_COLUMNS)} FROM indicators"
           " ORDER BY period_starts_on, reporter, partner, flow, event_id")
    return [dict(row) for row in db.execute(sql)]
