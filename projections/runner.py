"""Keeps the read models up to date by pulling the store's notification log.

eventsourcing's ProjectionRunner cannot subscribe to a SQLite store, so this pulls
pages of notifications and applies each page in one read-model transaction that also
moves every read model's position: a crash leaves the tables at a page boundary.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from events import (
    ANNOTATIONS,
    EVENT_TYPES,
    FACT_TOPICS,
    CommitmentEvent,
    CommitmentRegistered,
    DocumentsReported,
    EventCorrected,
    Fact,
    MeetingHeld,
    TradeFigureReported,
    target_of,
)
from events.rules import NOT_SIGNED, Status, apply_changes, evaluate, folds_on, world_key
from projections.files import StoreFiles, bind_quickly, make_private
from projections.schema import BUILT_BY, INDEXES, READ_MODELS, TABLES, VIEWS, built_here
from projections.views import (
    STATE_FIELDS,
    TIMELINE_ORDER,
    amendment,
    as_shown,
    commitment_row,
    correction_summary,
    indicator_row,
    meeting_row,
    party_rows,
    report_row,
    state_from_stored,
    stored_id,
    stored_state,
    stream_rows,
    timeline_row,
)
from projections.views_file import APPLICATION_ID, DamagedViews, claim, says_damaged

BATCH = 1000
# What the meta table of read models made here says: BUILT_BY, and the order of a stored
# status's fields (``views.stored_state``), which only the writers read.
MADE_BY = {**BUILT_BY, "state_fields": ",".join(STATE_FIELDS)}
# Only facts are projected: the store's other records (event-id claims) are skipped by the query.
FACT_TOPICS_IN_ORDER = sorted(FACT_TOPICS)  # a list to bind as query parameters
# Fields the status fold does not read. It reads every other one: what a fact says tells it
# from the same fact recorded again by another source (``events.rules.what_it_says``).
WORDING = frozenset({"note"})


def open_views(path: Path, store: StoreFiles | None = None) -> sqlite_utils.Database:
    """The read-model database, with its tables created if missing.

    Only a file proven to hold read models (see ``views_file.claim``) is opened; one that
    SQLite cannot read raises DamagedViews. ``store``: the read models' store, which
    they must not overwrite."""
    if claim(path, store) == "damaged":
        raise DamagedViews(path, "not a database")
    bind_quickly()
    make_private(path)
    db = sqlite_utils.Database(path)
    try:
        return _prepare(db)
    except sqlite3.DatabaseError as error:
        db.close()
        if says_damaged(error):
            raise DamagedViews(path, str(error)) from None
        raise


def _prepare(db: sqlite_utils.Database) -> sqlite_utils.Database:
    db.execute("PRAGMA busy_timeout=60000")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # the mark that proves the file ours
    tables = set(db.table_names())
    if "meta" in tables:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if not built_here(meta) or meta.get("state_fields") != MADE_BY["state_fields"]:
            with db.atomic():  # made by another version: built again from the events
                for name in VIEWS:
                    db.execute(f"DROP VIEW IF EXISTS [{name}]")
                for name in TABLES:
                    db.execute(f"DROP TABLE IF EXISTS [{name}]")
            tables = set(db.table_names())
    missing = set(TABLES) - tables
    if missing:
        with db.atomic():
            for name, spec in TABLES.items():
                db.table(name).create(spec["columns"], pk=None if spec.get("keyed_by_index") else spec["pk"],
                                      if_not_exists=True)
            create_indexes(db)
            for name, sql in VIEWS.items():
                db.create_view(name, sql, ignore=True)
            db.table("positions").insert_all(
                [{"read_model": name, "position": 0} for name in READ_MODELS], ignore=True
            )
            db.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                MADE_BY.items())
    return db


def _indexes() -> list[tuple[str, list[str], bool]]:
    """Every index of the read models: table, columns, and whether unique (a key)."""
    keys = [(name, [str(spec["pk"])], True) for name, spec in TABLES.items() if spec.get("keyed_by_index")]
    return [*keys, *((table, columns, False) for table, columns in INDEXES)]


def create_indexes(db: sqlite_utils.Database) -> None:
    for table, columns, unique in _indexes():
        db.table(table).create_index(columns, unique=unique, if_not_exists=True)


def drop_indexes(db: sqlite_utils.Database) -> None:
    """Every index (the timeline's key too): a rebuild makes them once, after the rows."""
    for table, columns, _ in _indexes():
        db.execute(f"DROP INDEX IF EXISTS [idx_{table}_{'_'.join(columns)}]")


def position(db: sqlite_utils.Database) -> int:
    """The notification id every read model has processed up to."""
    row = db.execute("SELECT MIN(position) FROM positions").fetchone()
    return row[0] or 0


def store_identity(app: Any) -> str | None:
    """What the store's first record is: read models built from another store must not be reused."""
    first = app.recorder.select_notifications(start=None, limit=1)
    if not first:
        return None
    return f"{first[0].id}:{first[0].originator_id}:{first[0].originator_version}"


def reset(db: sqlite_utils.Database) -> None:
    """Empty every read model, back to position 0."""
    with db.atomic():
        for name in TABLES:
            if name not in ("positions", "meta"):
                db.execute(f"DELETE FROM [{name}]")
        db.execute(f"DELETE FROM meta WHERE key NOT IN ({','.join('?' * len(MADE_BY))})", list(MADE_BY))
        db.execute("UPDATE positions SET position = 0")


def catch_up(
    app: Any,
    db: sqlite_utils.Database,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    limit: int | None = None,
    known: Any = None,
) -> int:
    """Apply every fact recorded after the read models' position; returns how many.

    ``progress`` is told the position reached after each page. ``known`` is what this
    process just recorded (``Recorded``): when the read models were
    at the position just before it, its facts are applied as they are, without reading
    them back from the store.

    Read models built from another store (or from this one before it was replaced)
    are emptied first and built again.
    """
    identity = store_identity(app)
    built_from = db.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
    if (built_from[0] if built_from else None) != identity or position(db) > (app.recorder.max_notification_id() or 0):
        reset(db)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store', ?)", [identity])
        db.conn.commit()
    done = 0
    after = position(db)
    if known is not None and known.notification_ids and limit is None:
        ids = known.notification_ids
        if after == min(ids) - 1 and max(ids) == (app.recorder.max_notification_id() or 0) \
                and len(ids) == max(ids) - min(ids) + 1:
            # Nothing else was written since the read models' position: apply what we hold,
            # with the statuses the write already folded, in one transaction (the statuses
            # are those after the last fact, so no page may be committed before it).
            with db.atomic():
                for start in range(0, len(known.facts), batch):
                    Batch(db, statuses=known.statuses).apply(known.facts[start:start + batch])
                db.execute("UPDATE positions SET position = ?", [max(ids)])
            if progress:
                progress(max(ids))
            return len(known.facts)
    last = app.recorder.max_notification_id() or 0
    while (limit is None or done < limit) and after < last:
        size = batch if limit is None else min(batch, limit - done)
        notifications = app.recorder.select_notifications(
            start=after, limit=size, stop=last, topics=FACT_TOPICS_IN_ORDER, inclusive_of_start=False
        )
        page = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        # A short page is the last one: the records after it up to ``last`` are not facts.
        after = notifications[-1].id if len(notifications) == size else last
        with db.atomic():
            if page:
                Batch(db).apply(page)
            db.execute("UPDATE positions SET position = ?", [after])
        done += len(page)
        if progress:
            progress(after)
    return done


def fact_from_row(row: dict[str, Any]) -> Fact:
    """A fact back from its timeline row."""
    line = orjson.loads(row["payload"])
    return EVENT_TYPES[line.pop("type")].model_validate({**line, "originator_version": row["version"]})


assert list(TABLES["streams"]["columns"]) == ["originator_id", "stream"]


def write_rows(db: sqlite_utils.Database, table: str, rows: list[Any], verb: str = "INSERT",
               upsert: bool = False) -> None:
    """Many rows in one prepared statement (sqlite-utils made the table; this is the hot path).

    Rows are dicts, or tuples already in the table's column order. ``upsert``: a row whose
    key is there already is changed where it stands (INSERT OR REPLACE moves it)."""
    if not rows:
        return
    columns = list(TABLES[table]["columns"])
    sql = (f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)})"
           f" VALUES ({', '.join('?' * len(columns))})")
    if upsert:
        key = TABLES[table]["pk"]
        assert isinstance(key, str), "an upsert names one key column"
        sql += (f" ON CONFLICT([{key}]) DO UPDATE SET "
                + ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != key))
    if isinstance(rows[0], tuple):
        db.conn.executemany(sql, rows)
    elif all(len(row) == len(columns) for row in rows):  # every column given: picked in C
        db.conn.executemany(sql, map(itemgetter(*columns), rows))
    else:
        db.conn.executemany(sql, [tuple(row.get(c) for c in columns) for row in rows])


def count_identified(db: sqlite_utils.Database, meetings: list[str] | None = None) -> None:
    """Set how many of its documents each meeting (these, or all) has identified and signed:
    ``projections.views.identified`` in SQL, held to it by tests/integration/test_projections.py."""
    which = "" if meetings is None else f" WHERE meeting_id IN ({','.join('?' * len(meetings))})"
    db.execute(
        "UPDATE meetings SET identified = (SELECT COUNT(*) FROM commitments c"
        " WHERE c.meeting_id = meetings.meeting_id AND c.counted_in_meeting_total = 1"
        " AND c.legal_status != ?)" + which,
        [NOT_SIGNED, *(meetings or [])],
    )


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class Batch:
    """One page of facts applied to every read model."""

    def __init__(self, db: sqlite_utils.Database, statuses: dict[str, Status] | None = None):
        """``statuses``: commitments as they stand after these facts, folded by the writer."""
        self.db = db
        self.given = statuses or {}
        self.streams: dict[str, str] = {}
        self.states: dict[str, Status] = {}
        self.dirty: set[str] = set()
        self.registered: set[str] = set()
        self.meetings_touched: set[str] = set()
        self.fetched: set[str] = set()  # commitments whose state was looked for (found or not)
        self.stored: dict[str, str] = {}  # the states as read: one folded to the same is not written again

    def _prefetch(self, batch: list[tuple[int, Fact]]) -> None:
        """Each page's commitment states, and the streams of the facts that name another
        (corrections, retractions, citations, claims: every other fact names its own stream),
        read with a few queries, not one per fact."""
        ids = list({stored_id(fact) for _, fact in batch if target_of(fact) is not None} - set(self.streams))
        for rows in _chunks(ids):
            self.streams.update(self.db.execute(
                f"SELECT originator_id, stream FROM streams WHERE originator_id IN ({','.join('?' * len(rows))})",
                rows,
            ).fetchall())
        cids = list({fact.commitment_id for _, fact in batch if isinstance(fact, CommitmentEvent)} - set(self.states) - set(self.given))
        for rows in _chunks(cids):
            for cid, state in self.db.execute(
                f"SELECT commitment_id, state FROM commitment_states WHERE commitment_id IN ({','.join('?' * len(rows))})",
                rows,
            ):
                self.stored[cid] = state
                self.states[cid] = state_from_stored(state)
        self.fetched = set(cids)

    def apply(self, batch: list[tuple[int, Fact]]) -> None:
        timeline: list[tuple[Any, ...]] = []
        new_streams: list[tuple[str, str]] = []
        indicators: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        meetings: list[dict[str, Any]] = []
        self._prefetch(batch)
        for notification_id, fact in batch:
            amends = target_of(fact) is not None
            oid = stored_id(fact)
            if amends:
                stream = self.streams[oid]  # the stream of a fact already projected
            else:
                stream = self.streams[oid] = fact.stream_key()
                if fact.originator_version == 1:
                    new_streams.append((oid, stream))
            timeline.append(timeline_row(notification_id, fact, stream))
            if amends:
                self._flush(timeline, new_streams, indicators, reports, meetings)
                self._amend(fact, stream)
            elif isinstance(fact, CommitmentEvent):
                self._fold(fact)
            elif isinstance(fact, TradeFigureReported):
                indicators.append(indicator_row(fact))
            elif isinstance(fact, MeetingHeld):
                meetings.append(meeting_row(fact))
                self.meetings_touched.add(fact.meeting_id)
            elif isinstance(fact, DocumentsReported):
                reports.append(report_row(fact))
        self._flush(timeline, new_streams, indicators, reports, meetings)
        self._write_commitments()
        self._count_identified()

    def _flush(self, timeline, new_streams, indicators, reports, meetings) -> None:  # noqa: ANN001
        db = self.db
        write_rows(db, "streams", new_streams)
        write_rows(db, "timeline", timeline)
        write_rows(db, "indicators", indicators, "INSERT OR REPLACE")
        write_rows(db, "meeting_reports", reports, "INSERT OR REPLACE")
        write_rows(db, "meetings", meetings, "INSERT OR REPLACE")
        for rows in (timeline, new_streams, indicators, reports, meetings):
            rows.clear()

    # -- commitments -----------------------------------------------------------

    def _state(self, commitment_id: str) -> Status | None:
        if commitment_id not in self.states and commitment_id not in self.fetched:
            row = self.db.execute(
                "SELECT state FROM commitment_states WHERE commitment_id = ?", [commitment_id]
            ).fetchone()
            if row is None:
                return None
            self.stored[commitment_id] = row[0]
            self.states[commitment_id] = state_from_stored(row[0])
        return self.states.get(commitment_id)

    def _fold(self, fact: CommitmentEvent) -> None:
        cid = fact.commitment_id
        if cid in self.given:
            self.states[cid] = self.given[cid]
            self.registered.add(cid)  # its parties are written again: a correction may change them
            return
        if cid in self.dirty:
            return
        state = self._state(cid)
        if isinstance(fact, CommitmentRegistered):
            self.registered.add(cid)
        if state is None:
            if isinstance(fact, CommitmentRegistered):
                state = self.states[cid] = Status(commitment_id=cid)
            else:
                self.dirty.add(cid)
                return
        if not folds_on(state, [world_key(fact)]):
            self.dirty.add(cid)  # learnt out of world order: fold the whole history again
            return
        state.apply(fact)

    def _amend(self, fact: Fact, stream: str) -> None:
        """A fact that names another (a correction, retraction, citation, claim or settlement):
        the rows it changes, and what was folded or projected from the fact it names."""
        original: dict[str, Any] | None = None
        if isinstance(fact, ANNOTATIONS) or self._has_claims(stream):
            self._reshow(stream)
        else:
            amended = amendment(fact)  # the first fact of that id in the stream takes it (see views.standings)
            if amended is None:
                return
            target, mark = amended
            row = self.db.execute(
                f"SELECT {', '.join(TIMELINE_ORDER)} FROM timeline WHERE event_id = ? AND stream = ? AND type NOT IN"
                " ('EventCorrected', 'EventRetracted') ORDER BY position LIMIT 1",
                [target, stream],
            ).fetchone()
            if row is None:
                return
            original = dict(zip(TIMELINE_ORDER, row))
            if isinstance(fact, EventCorrected):
                self._show_corrected(fact, original, mark)
            else:
                self.db.execute("UPDATE timeline SET standing = ? WHERE position = ?", [mark, original["position"]])
        kind, subject = stream.split(":", 1)
        if kind == "commitment" and subject in self.given:
            self.states[subject] = self.given[subject]
            self.registered.add(subject)
            return
        if kind == "commitment":
            if original is None or not self._changes_nothing_folded(fact, subject, original):
                self.dirty.add(subject)
            return
        self._project_again(stream)

    def _has_claims(self, stream: str) -> bool:
        """Whether a conflicting claim was ever recorded in the stream: its standings then
        depend on more than the last correction or retraction (see ``views.standings``)."""
        return self.db.execute(
            "SELECT 1 FROM timeline WHERE stream = ? AND type = 'ClaimConflicted' LIMIT 1", [stream]
        ).fetchone() is not None

    def _reshow(self, stream: str) -> None:
        """Every timeline row of the stream made again from all its facts, as the rebuild
        makes them (``views.as_shown``)."""
        rows = self.db.execute(
            f"SELECT {', '.join(TIMELINE_ORDER)} FROM timeline WHERE stream = ? ORDER BY version", [stream]
        ).fetchall()
        facts = [fact_from_row(dict(zip(TIMELINE_ORDER, row))) for row in rows]
        made = (timeline_row(row[0], fact, stream, mark, shown, summary)
                for row, fact, (shown, mark, summary) in zip(rows, facts, as_shown(facts)))
        # Only the rows that show something else are written, where they stand.
        write_rows(self.db, "timeline", [new for new, row in zip(made, rows) if new != row], upsert=True)

    def _show_corrected(self, fact: EventCorrected, original: dict[str, Any], mark: str) -> None:
        """The corrected fact's row shows it as it now stands (at its corrected date), and the
        correction's row the old and new values (``views.as_shown``, for one correction)."""
        stream = original["stream"]
        recorded = fact_from_row(original)
        earlier = [fact_from_row(r) for r in self.db.query(
            "SELECT payload, version FROM timeline WHERE stream = ? AND type = 'EventCorrected' AND version < ?"
            " ORDER BY version", [stream, fact.originator_version])]
        before = recorded
        for correction in earlier:
            if isinstance(correction, EventCorrected) and correction.corrects == recorded.event_id:
                before = apply_changes(before, correction.changes)
        write_rows(self.db, "timeline", [
            timeline_row(original["position"], recorded, stream, mark, apply_changes(before, fact.changes)),
        ], upsert=True)
        self.db.execute("UPDATE timeline SET summary = ? WHERE event_id = ? AND stream = ? AND version = ?",
                        [correction_summary(fact, before), fact.event_id, stream, fact.originator_version])

    def _project_again(self, stream: str) -> None:
        """A meeting's or an indicator's rows, made again from its facts as they now stand."""
        facts = [fact_from_row(r) for r in self.db.query(
            "SELECT payload, version FROM timeline WHERE stream = ? ORDER BY version", [stream])]
        for ids in _chunks([f.event_id for f in facts]):
            for table in ("indicators", "meeting_reports"):
                self.db.execute(f"DELETE FROM {table} WHERE event_id IN ({','.join('?' * len(ids))})", ids)
        kind, subject = stream.split(":", 1)
        if kind == "meeting":
            self.db.execute("DELETE FROM meetings WHERE meeting_id = ?", [subject])
            self.meetings_touched.add(subject)
        for table, rows in stream_rows(facts).items():
            write_rows(self.db, table, rows, "INSERT OR REPLACE")

    def _changes_nothing_folded(self, fact: Fact, commitment_id: str, original: dict[str, Any]) -> bool:
        """A correction of a note to anything but the latest change leaves the status as it
        was, so the history need not be folded again."""
        if not isinstance(fact, EventCorrected) or commitment_id in self.dirty:
            return False
        state = self._state(commitment_id)
        return (
            state is not None
            and set(fact.changes) <= WORDING
            and original["type"] not in ("Assessed", "CommitmentRegistered")
            and state.last_event_id != original["event_id"]
        )

    def _refold(self, commitment_id: str) -> Status:
        rows = self.db.query(
            "SELECT payload, version FROM timeline WHERE stream = ? ORDER BY version",
            [f"commitment:{commitment_id}"],
        )
        return evaluate(commitment_id, [fact_from_row(r) for r in rows])

    def _write_commitments(self) -> None:
        for cid in self.dirty:
            self.states[cid] = self._refold(cid)
        today = date.today()
        rows, parties, folded, changed = [], [], [], []
        for cid, state in self.states.items():
            if not state.kind:
                if cid in self.registered or cid in self.dirty:
                    changed.append(cid)  # its parties are gone with its registration
                continue
            if state.meeting_id:
                self.meetings_touched.add(state.meeting_id)
            text = stored_state(state)
            if text == self.stored.get(cid):
                continue  # the board row and parties are made from the state alone: unchanged too
            rows.append(commitment_row(state, today))
            folded.append((cid, text))
            if cid in self.registered or cid in self.dirty:
                changed.append(cid)
                parties.extend(party_rows(state))
        for chunk in _chunks(changed):
            self.db.execute(
                f"DELETE FROM commitment_parties WHERE commitment_id IN ({','.join('?' * len(chunk))})", chunk)
        # Changed in place: a replaced row would be deleted from its page and added on another.
        write_rows(self.db, "commitments", rows, upsert=True)
        write_rows(self.db, "commitment_states", folded, upsert=True)
        write_rows(self.db, "commitment_parties", parties, "INSERT OR IGNORE")

    def _count_identified(self) -> None:
        for meetings in _chunks(sorted(self.meetings_touched)):
            count_identified(self.db, meetings)
