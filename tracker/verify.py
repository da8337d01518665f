"""Tamper evidence: check every stored event against its seal and its claim.

Each fact is sealed, when recorded, with a hash of its content, its place in its stream
and the seal before it; each event id is claimed by a record that names its stream and
content digest. Editing, deleting or reordering stored rows outside the tracker breaks a
seal, leaves a gap, or leaves a claim without its event.
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from events import FACT_TOPICS, Fact
from events.aggregates import EventIdClaimed, claim_id, digest, seal
from events.validation import one_line

if TYPE_CHECKING:
    from tracker.application import Tracker


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    from eventsourcing.persistence import DatabaseError

    return sqlite3.DatabaseError, DatabaseError


def database_problems(location: str) -> list[str]:
    """The SQLite store file's own integrity check (``PRAGMA integrity_check``), each problem
    with the table or index it is in. On PostgreSQL this does not apply: the server checks its
    pages as it reads them (a damaged page fails the read), and its own deep checks (amcheck)
    need an extension and take locks, so they are left to its administrator."""
    import sqlite3
    from urllib.parse import quote

    try:
        with closing(sqlite3.connect(f"file:{quote(location)}?mode=ro", uri=True)) as db:
            found = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if found == ["ok"]:
                return []
            objects = db.execute("SELECT name, tbl_name, rootpage FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as error:
        return [f"the store file is damaged: {error} (SQLite cannot read its structure)"]
    tables = {name: table for name, table, _ in objects}
    roots = {f"page {root}": name for name, _, root in objects if root}
    named_first: list[str] = []
    problems: list[str] = []
    for text in found:
        for line in text.replace("*** in database main ***", "").strip().splitlines():
            # the longest name it holds: "stored_events" is in the name of its index too
            named = max((n for n in tables if n in line), key=len, default=None) or next(
                (name for page, name in roots.items() if re.search(rf"\b{page}\b", line)), None)
            where = "" if named is None else (
                f" (an index of {tables[named]}: SQLite's REINDEX rebuilds it from the table)" if named != tables[named]
                else f" (the table {named})")
            (named_first if named else problems).append(f"the store file is damaged: {line}{where}")
    return named_first + problems


def verify(app: Tracker, page: int = 1000) -> Report:
    store = app.store
    report = Report(problems=[] if store.is_postgres else database_problems(store.location))
    try:
        _check_events(app, report, page)
    except _database_errors() as error:  # a damaged page of events: what was read so far is reported too
        report.problems.append(f"the store file is damaged: {error} (its events cannot all be read)")
    return report


def _check_events(app: Tracker, report: Report, page: int) -> None:
    last: dict[UUID, tuple[int, str | None, str]] = {}  # each stream's last version, seal, event id
    claims: dict[UUID, EventIdClaimed] = {}
    expected: dict[UUID, tuple[str, str]] = {}  # the claim each fact should have: its name, digest
    after = 0
    while True:
        notifications = app.recorder.select_notifications(start=after, limit=page, inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            where = f"notification {n.id}"
            try:
                event = app.mapper.to_domain_event(n)
            except Exception as error:  # noqa: BLE001 - any decoding failure is tampering
                report.problems.append(f"{where}: unreadable ({one_line(error)})")
                continue
            match event:
                case EventIdClaimed(originator_id=claimed):
                    claims[claimed] = event
                    continue
                case Fact() if n.topic in FACT_TOPICS:
                    pass
                case _:
                    continue
            report.events += 1
            name = f"{where}: event {event.event_id!r} ({event.stream_key() if event.stream_kind != 'any' else 'correction'} v{event.originator_version})"
            version, previous, _ = last.get(event.originator_id, (0, None, ""))
            if event.originator_version != version + 1:
                report.problems.append(
                    f"{name}: expected version {version + 1} of its stream here; events are missing or reordered"
                )
            if event.seal is None:
                report.unsealed += 1  # recorded before sealing: nothing to check against
                last[event.originator_id] = (event.originator_version, None, event.event_id)
                continue
            if event.seal != seal(previous, event):
                report.problems.append(f"{name}: content or order altered (seal does not match)")
            last[event.originator_id] = (event.originator_version, event.seal, event.event_id)
            expected[claim_id(event.event_id)] = (name, digest(event))
        after = notifications[-1].id
    for cid, (name, content) in expected.items():
        claim = claims.get(cid)
        if claim is None:
            report.problems.append(f"{name}: its event id claim is missing")
        elif claim.digest != content:
            report.problems.append(f"{name}: content differs from what was claimed when recorded")
    for cid, claim in claims.items():
        if cid not in expected:
            report.problems.append(
                f"event {claim.event_id or '?'!r} in {claim.stream} was claimed but is missing (deleted)"
            )
    report.streams = len(last)
