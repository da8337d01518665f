"""Every derived view, each in one pure function of facts or of folded statuses.

The incremental runner, the rebuild, the ``--as-of``/``--known-at`` replay and the HTML
report all make their rows here, so they cannot drift apart. Two views are also computed
in SQL over the live read models, where thousands of rows are read on every call: the
party counts (``projections.read.parties``) and the board's filter
(``projections.read.board``); a meeting's identified count is kept up to date in SQL by
``projections.runner.count_identified``. Each SQL twin is held to its function here by
tests/integration/test_projections.py, which compares them on the same random histories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any, overload

import orjson

from events import (
    ANNOTATIONS,
    ClaimConflicted,
    ClaimSettled,
    DocumentsReported,
    EventCorrected,
    EventRetracted,
    Fact,
    MeetingHeld,
    TradeFigureReported,
    world_period,
)
from events.base import party_label, world_place
from events.rules import (
    COMPLETED,
    DONE_STATE,
    IN_FORCE,
    LEGAL_FINAL,
    NOT_SIGNED,
    RANK,
    UNDATED,
    Status,
    apply_changes,
    effective_events,
)
from projections.read import TIMELINE_COLUMNS
from projections.schema import TABLES

STANDING = "standing"  # the standing of a fact no later fact corrects or retracts
# The facts that change how others stand or show: without them, each stands as recorded.
_AMENDING = (EventCorrected, EventRetracted, ClaimConflicted, ClaimSettled)
# What counts as done in the party counts: completed, or a kind's lasting state
# (``events.rules.DONE_STATE``); the SQL twin in projections.read.parties lists the same.
IMPLEMENTED = frozenset({COMPLETED, *DONE_STATE.values()})


# -- a fact's standing ---------------------------------------------------------------


@overload
def amendment(fact: EventCorrected | EventRetracted) -> tuple[str, str]: ...
@overload
def amendment(fact: Fact) -> tuple[str, str] | None: ...
def amendment(fact: Fact) -> tuple[str, str] | None:
    """The event id a correction or retraction amends and the standing it gives that fact
    ("corrected by ..." or "retracted by ..."); None for any other fact."""
    if isinstance(fact, EventCorrected):
        return fact.corrects, f"corrected by {fact.event_id}"
    if isinstance(fact, EventRetracted):
        return fact.retracts, f"retracted by {fact.event_id}"
    return None


def standings(stream: Iterable[Fact]) -> list[str]:
    """The standing of each of a stream's facts (given in recording order), in that order:
    the last word of the corrections, retractions and accepted claims that name it after it
    was recorded, followed by the conflicting claims still open on it ("contested by ...").
    A correction or retraction itself always stands; a conflicting claim is "open" until
    settled. A retracted citation, claim or settlement never happened."""
    facts = list(stream)
    withdrawn = {f.retracts for f in facts if isinstance(f, EventRetracted)}
    marks = [STANDING] * len(facts)
    first: dict[str, int] = {}
    open_claims: dict[str, str] = {}  # claim -> the fact it contradicts
    for n, fact in enumerate(facts):
        amended = amendment(fact)
        if amended is None:
            first.setdefault(fact.event_id, n)
            if isinstance(fact, ANNOTATIONS) and fact.event_id in withdrawn:
                continue
            if isinstance(fact, ClaimConflicted):
                marks[n] = "open"
                open_claims[fact.event_id] = fact.conflicts_with
            elif isinstance(fact, ClaimSettled) and fact.settles in first:
                marks[first[fact.settles]] = f"settled by {fact.event_id}: {fact.outcome}"
                contested = open_claims.pop(fact.settles, None)
                if fact.outcome == "claim accepted" and contested in first:
                    marks[first[contested]] = f"corrected by {fact.event_id} (claim {fact.settles} accepted)"
        elif amended[0] in first:
            marks[first[amended[0]]] = amended[1]
    for claim, contested in open_claims.items():
        at = first.get(contested)
        if at is not None and not marks[at].startswith("retracted"):
            marks[at] = f"contested by {claim}" if marks[at] == STANDING else f"{marks[at]}; contested by {claim}"
    return marks


def as_shown(stream: Iterable[Fact]) -> list[tuple[Fact, str, str | None]]:
    """Each of a stream's facts (given in recording order) as a history shows it, in that
    order: the fact as it now stands (a corrected fact with every correction applied, so it
    sits at its corrected date), its standing, and for a correction the summary naming each
    field's old and new value (None: the fact's own summary)."""
    facts = list(stream)
    if not any(isinstance(f, _AMENDING) for f in facts):  # most streams: every fact as recorded
        first: dict[str, Fact] = {}
        for fact in facts:
            first.setdefault(fact.event_id, fact)
        return [(first[fact.event_id], STANDING, None) for fact in facts]
    withdrawn = {f.retracts for f in facts if isinstance(f, EventRetracted)}
    current: dict[str, Fact] = {}
    summaries: dict[int, str] = {}
    for n, fact in enumerate(facts):
        if isinstance(fact, EventCorrected):
            before = current.get(fact.corrects)
            if before is not None:
                current[fact.corrects] = apply_changes(before, fact.changes)
                summaries[n] = correction_summary(fact, before)
        elif not isinstance(fact, EventRetracted):
            current.setdefault(fact.event_id, fact)
            if (isinstance(fact, ClaimSettled) and fact.outcome == "claim accepted"
                    and fact.event_id not in withdrawn):
                claim = current.get(fact.settles)
                if isinstance(claim, ClaimConflicted) and claim.conflicts_with in current:
                    # an accepted claim corrects the fact: it too sits at its corrected date
                    contested = current[claim.conflicts_with]
                    current[claim.conflicts_with] = apply_changes(contested, claim.claims, "claim")
    return [(fact if isinstance(fact, (EventCorrected, EventRetracted)) else current[fact.event_id], mark,
             summaries.get(n)) for n, (fact, mark) in enumerate(zip(facts, standings(facts)))]


def correction_summary(correction: EventCorrected, before: Fact) -> str:
    """What a correction changed, from the fact as it stood before it:
    ``corrects visa-in-force: occurred_on: 2024-03-10 -> 2024-03-01``."""
    old = before.to_line()
    return f"corrects {correction.corrects}: " + "; ".join(
        f"{field}: {_shown_value(old.get(field))} -> {_shown_value(new)}"
        for field, new in sorted(correction.changes.items()))


def _shown_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def amended(stream: Iterable[Fact]) -> dict[str, str]:
    """The stream's corrected or retracted facts: event id -> standing."""
    facts = list(stream)
    return {fact.event_id: mark for fact, mark in zip(facts, standings(facts)) if mark != STANDING}


# -- timeline and history rows -------------------------------------------------------


def stored_id(fact: Fact) -> str:
    """The stream id of a stored fact, as the read models key it (hex)."""
    if fact.originator_id is None:
        raise ValueError(f"fact {fact.event_id!r} was never stored: it has no stream")
    return fact.originator_id.hex

TIMELINE_ORDER = ["position", "event_id", "type", "stream", "subject", "occurred_on", "precision",
                  "starts_on", "ends_on", "rank", "version", "recorded_at", "summary", "source_title",
                  "source_publisher", "source_published_on", "source_address", "sources", "note", "standing",
                  "payload"]
assert TIMELINE_ORDER == list(TABLES["timeline"]["columns"]), "timeline rows are built in this order"
# A history is one commitment's timeline rows without their subject.
HISTORY_COLUMNS = [c for c in TIMELINE_COLUMNS if c != "subject"]

_NO_SOURCE: dict[str, Any] = {}


@lru_cache(maxsize=65536)
def _span(occurred_on: str) -> tuple[str, str, str]:
    """The day a world date is placed in world order (``starts_on``: its first day, but for
    an open start its end bound and for an unknown date "unknown"), its last day (ISO) and
    precision; a few thousand dates recur."""
    _, end, precision = world_period(occurred_on)
    return world_place(occurred_on) or UNDATED, end.isoformat(), precision


def timeline_row(position: int, fact: Fact, stream: str, standing: str = STANDING, shown: Fact | None = None,
                 summary: str | None = None) -> tuple[Any, ...]:
    """A fact's timeline row, in TIMELINE_ORDER (asserted above to be the table's column order):
    its columns show ``shown`` (the fact as corrected, see ``as_shown``) where given, its
    ``summary`` where given; its payload is the fact as recorded."""
    recorded = fact.to_line()  # the same values as the fields, already as JSON gives them
    line = recorded if shown is None or shown is fact else shown.to_line()
    occurred_on = line["occurred_on"]
    starts_on, ends_on, precision = _span(occurred_on)
    given = line.get("source") or _NO_SOURCE
    source = given[0] if isinstance(given, list) else given  # the first of several
    return (
        position, line["event_id"], line["type"], stream, stream.split(":", 1)[1],
        occurred_on, precision, starts_on, ends_on, RANK.get(type(fact), 5),
        fact.originator_version, recorded.get("recorded_at"), summary or (shown or fact).summary(),
        source.get("title"), source.get("publisher"), source.get("published_on"), source.get("address"),
        sources_text(shown or fact), line.get("note"), standing, orjson.dumps(recorded).decode(),
    )


def sources_text(fact: Fact) -> str | None:
    """Every source of a fact, one per line (each as ``Source.label`` gives it); None: none."""
    return "\n".join(source.label() for source in fact.sources) or None


def history_row(fact: Fact, stream: str, standing: str = STANDING, shown: Fact | None = None,
                summary: str | None = None) -> dict[str, Any]:
    """A fact's row in a history (HISTORY_COLUMNS): its timeline row's columns."""
    row = dict(zip(TIMELINE_ORDER, timeline_row(0, fact, stream, standing, shown, summary)))
    return {column: row[column] for column in HISTORY_COLUMNS}


# -- the board -----------------------------------------------------------------------


def instrument_label(instrument: dict[str, Any], kind: str) -> str:
    """An instrument as a chain shows it: its type, when and where it was signed."""
    what = instrument["type"] or kind
    if instrument["signed_on"] is None:
        return f"{what} (not signed)"
    return f"{what} ({instrument['signed_on']}, {instrument['place']})" if instrument["place"] \
        else f"{what} ({instrument['signed_on']})"


def instrument_chain(state: Status) -> dict[str, str | None]:
    """The instruments that carried the commitment, when more than one did: the current
    one (``instrument``, ``instrument_id``) and the whole chain in the order they were signed,
    ended ones marked, followed by the commitment's legal status (``instruments``);
    all None for a commitment carried by one instrument (projections.read.CHAIN_COLUMNS)."""
    if len(state.instruments) < 2:
        return {"instrument": None, "instrument_id": None, "instruments": None}
    signed = sorted(state.instruments, key=lambda i: (i["signed_order"] or len(state.instruments) + 1))
    current = state.current_instrument()
    assert current is not None
    shown = []
    for instrument in signed:
        label = instrument_label(instrument, state.kind)
        if instrument is not current and instrument["legal_status"] in LEGAL_FINAL:
            label = f"{label[:-1]}; {instrument['legal_status']})"
        shown.append(label)
    return {"instrument": instrument_label(current, state.kind), "instrument_id": state.instrument_id,
            "instruments": " → ".join(shown) + f": {state.legal_status}"}


def board_row(state: Status, today: date) -> dict[str, Any]:
    """A commitment's row on the status board (projections.read.BOARD_COLUMNS, ``binding``
    and the instrument chain's columns)."""
    step, due = state.upcoming()
    return {
        "commitment_id": state.commitment_id,
        "kind": state.kind,
        "title": state.title,
        "parties": ", ".join(party_label(p["country"], p.get("institution")) for p in state.parties),
        "meeting_id": state.meeting_id,
        "sector": state.sector,
        "binding": state.binding,
        "legal_status": state.legal_status,
        "legal_since": state.legal_since,
        "implementation_status": state.implementation_status,
        "last_change_on": state.last_change_on,
        "last_change": state.last_change,
        "next_step": step,
        "next_step_due": due,
        "overdue": overdue(due, today),
        "lifecycle": state.lifecycle,
        "progress": state.progress() or None,
        "value": money_label(state.value),
        "sources": len(state.cited),
        "official_sources": sum(state.cited.values()),
        "open_claims": state.open_claims,
        **instrument_chain(state),
    }


def money_label(value: dict[str, Any] | None) -> str | None:
    """How a value (a Money as JSON) is shown: "about 100,000,000 USD"."""
    if value is None:
        return None
    from events import Money

    return Money.model_validate(value).label()


def due_by(due: str | None) -> str | None:
    """The last day (ISO) a step due on the world date ``due`` may take."""
    return world_period(due)[1].isoformat() if due else None


def overdue(due: str | None, today: date) -> bool:
    """Whether a step due on ``due`` is late on ``today`` (SQL: ``next_step_due_by < today``)."""
    last = due_by(due)
    return last is not None and last < today.isoformat()


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def on_board(state: Status, today: date, *, party: str | None = None, institution: str | None = None,
             sector: str | None = None, meeting: str | None = None, overdue_only: bool = False) -> bool:
    """Whether a commitment passes the board's filters, as ``projections.read.board`` filters
    in SQL: a party by its country code; an institution by a substring of a party's
    institution, case folded for ASCII letters only (SQLite's LIKE)."""
    if party and party.upper() not in {p["country"] for p in state.parties}:
        return False
    if institution:
        needle = institution.translate(_ASCII_LOWER)
        if not any(needle in (p.get("institution") or "").translate(_ASCII_LOWER) for p in state.parties):
            return False
    if sector and state.sector != sector:
        return False
    if meeting and state.meeting_id != meeting:
        return False
    return not overdue_only or overdue(state.upcoming()[1], today)


# -- counts ----------------------------------------------------------------------------


def party_counts(states: Iterable[Status], today: date) -> list[dict[str, Any]]:
    """Per country (institution '') and per country and institution: how many commitments,
    signed, in force, completed (or in their kind's lasting state: in effect, operating,
    active), overdue; ordered by country, then institution.
    The live read models count in SQL: ``projections.read.parties``."""
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for state in states:
        keys = {(p["country"], "") for p in state.parties} | {
            (p["country"], p["institution"]) for p in state.parties if p.get("institution")}
        late = overdue(state.upcoming()[1], today)
        for country, institution in keys:
            row = counts.setdefault((country, institution), {
                "country": country, "institution": institution, "commitments": 0, "signed": 0,
                "in_force": 0, "completed": 0, "overdue": 0})
            row["commitments"] += 1
            row["signed"] += state.legal_status != NOT_SIGNED
            row["in_force"] += state.legal_status == IN_FORCE
            row["completed"] += state.implementation_status in IMPLEMENTED
            row["overdue"] += late
    return [counts[key] for key in sorted(counts)]


def identified(state: Status) -> bool:
    """Whether a commitment counts among its meeting's documents identified here."""
    return bool(state.meeting_id) and state.counted_in_meeting_total and state.legal_status != NOT_SIGNED


def identified_by_meeting(states: Iterable[Status]) -> dict[str, int]:
    """How many documents each meeting has identified here (meetings with none are absent).
    The live read models count in SQL: ``projections.runner.count_identified``."""
    counts: dict[str, int] = {}
    for state in states:
        if identified(state) and state.meeting_id:
            counts[state.meeting_id] = counts.get(state.meeting_id, 0) + 1
    return counts


# -- read-model rows -------------------------------------------------------------------


def commitment_row(state: Status, today: date) -> dict[str, Any]:
    """A commitment's row in the ``commitments`` table: its board row and what it was folded from."""
    row = board_row(state, today)
    return {
        **{k: v for k, v in row.items() if k != "overdue"},
        "binding": int(state.binding),
        "last_event_id": state.last_event_id,
        "next_step_due_by": due_by(row["next_step_due"]),
        "signed_on": state.signed_on,
        "in_force_on": state.in_force_on,
        "target_on": state.target_on,
        "assessment_score": state.assessment_score,
        "assessment_on": state.assessment_on,
        "events": state.events,
        "unsourced": state.unsourced,
        "counted_in_meeting_total": int(state.counted_in_meeting_total),
        "progress": orjson.dumps(row["progress"]).decode() if row["progress"] else None,
        "value_amount": state.value["amount"] if state.value else None,
        "value_currency": state.value["currency"] if state.value else None,
    }


# A folded status is kept as the JSON array of its fields' values, in this order: without
# the names, a row is a third smaller, and more of them share a page. The meta table
# records the order (``schema.BUILT_BY``): read models kept in another are built again.
STATE_FIELDS = tuple(f.name for f in fields(Status))
_state_values = attrgetter(*STATE_FIELDS)


def stored_state(state: Status) -> str:
    """A folded status as the ``commitment_states`` table keeps it (``state_from_stored`` reads it back)."""
    return orjson.dumps(_state_values(state)).decode()


def state_from_stored(text: str | bytes) -> Status:
    """The folded status ``stored_state`` wrote."""
    values = orjson.loads(text)
    if len(values) != len(STATE_FIELDS):
        raise ValueError(f"a stored status has {len(values)} fields, not {len(STATE_FIELDS)}")
    state = Status.__new__(Status)  # every field is given: no defaults to make
    state.__dict__.update(zip(STATE_FIELDS, values))
    if state.last_key is not None:
        state.last_key = tuple(state.last_key)  # type: ignore[assignment]  # JSON has no tuples
    return state


def party_rows(state: Status) -> list[dict[str, Any]]:
    return [{"commitment_id": state.commitment_id, "country": p["country"], "institution": p.get("institution", "")}
            for p in state.parties]


def meeting_row(fact: MeetingHeld) -> dict[str, Any]:
    return {
        "meeting_id": fact.meeting_id,
        "title": fact.title,
        "place": fact.place,
        "occurred_on": fact.occurred_on,
        "parties": ", ".join(p.label() for p in fact.parties),
        "identified": 0,
    }


def indicator_row(fact: TradeFigureReported) -> dict[str, Any]:
    source = next(iter(fact.sources), None)
    return {
        "event_id": fact.event_id,
        "indicator": f"trade:{fact.reporter}-{fact.partner}:{fact.flow}",
        "reporter": fact.reporter,
        "partner": fact.partner,
        "flow": fact.flow,
        "period": fact.period,
        "period_starts_on": world_period(fact.period)[0].isoformat(),
        "value": float(fact.value),
        "currency": fact.currency,
        "change_pct": float(fact.change_pct) if fact.change_pct is not None else None,
        "occurred_on": fact.occurred_on,
        "source_title": source.title if source else None,
        "source_publisher": source.publisher if source else None,
        "source_address": source.address if source else None,
        "sources": sources_text(fact),
    }


def report_row(fact: DocumentsReported) -> dict[str, Any]:
    source = next(iter(fact.sources), None)
    return {
        "event_id": fact.event_id,
        "meeting_id": fact.meeting_id,
        "count": fact.count,
        "unnamed": fact.unnamed,
        "occurred_on": fact.occurred_on,
        "source_title": source.title if source else None,
        "source_publisher": source.publisher if source else None,
        "source_published_on": source.published_on if source else None,
        "source_address": source.address if source else None,
        "value": fact.value.label() if fact.value else None,
        "sources": sources_text(fact),
    }


def stream_rows(facts: list[Fact]) -> dict[str, list[dict[str, Any]]]:
    """A meeting's or an indicator's rows from its stream's facts as they now stand:
    corrections applied (each on top of the last), retractions removed, citations' sources
    added."""
    rows: dict[str, list[dict[str, Any]]] = {"meetings": [], "meeting_reports": [], "indicators": []}
    for fact in effective_events(facts):
        if isinstance(fact, MeetingHeld):
            rows["meetings"].append(meeting_row(fact))
        elif isinstance(fact, DocumentsReported):
            rows["meeting_reports"].append(report_row(fact))
        elif isinstance(fact, TradeFigureReported):
            rows["indicators"].append(indicator_row(fact))
    return rows
