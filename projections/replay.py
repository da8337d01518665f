"""Where things stood on a world date (``as_of``) or as they were known at a moment
(``known_at``), replayed from the facts themselves rather than read from the read models.

Rows are made by the same functions as the read models' (``projections.views``), so a
replay of everything shows what the read models show.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from events import CommitmentEvent, Fact
from events.rules import Status, certainty, effective_events, evaluate, world_key
from projections.read import INDICATOR_COLUMNS, TIMELINE_COLUMNS, meeting_summary, money_total
from projections.views import (
    TIMELINE_ORDER,
    as_shown,
    board_row,
    history_row,
    identified_by_meeting,
    on_board,
    party_counts,
    stream_rows,
    timeline_row,
)


def by_stream(facts: Iterable[Fact]) -> list[list[Fact]]:
    """Facts (given in recording order) grouped by stream, each stream in recording order."""
    streams: dict[Any, list[Fact]] = {}
    for fact in facts:
        streams.setdefault(fact.originator_id, []).append(fact)
    return list(streams.values())


def known(facts: Iterable[Fact], known_at: datetime | None) -> list[Fact]:
    """The facts recorded by ``known_at`` (all of them when it is None)."""
    return [f for f in facts if known_at is None or f.recorded_at is None or f.recorded_at <= known_at]


def happened(fact: Fact, as_of: date | None) -> bool:
    """Whether a fact certainly had happened by ``as_of`` (always, when None): see
    ``events.rules.certainty``."""
    return as_of is None or certainty(fact, as_of) == "certainly"


def possibly(state: Status) -> str | None:
    """What possibly had happened by the ``as_of`` a status was folded for, as the board says
    it: "possibly: entered into force (2023-06/2023-08)"; None when nothing."""
    return f"possibly: {'; '.join(state.possibly)}" if state.possibly else None


def status_of(stream: list[Fact], *, as_of: date | None = None, known_at: datetime | None = None) -> Status | None:
    """A commitment's status from its stream's facts; None for another stream, or a
    commitment not registered by then."""
    first = stream[0]
    if not (isinstance(first, CommitmentEvent) and first.type == "CommitmentRegistered"):
        return None
    status = evaluate(first.commitment_id, stream, as_of=as_of, known_at=known_at)
    return status if status.kind else None


def statuses(facts: Iterable[Fact], *, as_of: date | None = None,
             known_at: datetime | None = None) -> list[Status]:
    """Every commitment as it stood, ordered by id."""
    found = [status_of(stream, as_of=as_of, known_at=known_at) for stream in by_stream(facts)]
    return sorted((s for s in found if s is not None), key=lambda s: s.commitment_id)


def board(facts: Iterable[Fact], today: date, *, as_of: date | None = None, known_at: datetime | None = None,
          party: str | None = None, institution: str | None = None, sector: str | None = None,
          meeting: str | None = None, overdue_only: bool = False) -> list[dict[str, Any]]:
    """The status board's rows as they stood, filtered as ``projections.read.board`` filters."""
    rows = []
    for state in statuses(facts, as_of=as_of, known_at=known_at):
        if on_board(state, today, party=party, institution=institution, sector=sector, meeting=meeting,
                    overdue_only=overdue_only):
            row = board_row(state, today)
            if as_of is not None:
                row["possibly"] = possibly(state)
            rows.append(row)
    return rows


def history(commitment_id: str, facts: Iterable[Fact], *, as_of: date | None = None,
            known_at: datetime | None = None) -> tuple[list[dict[str, Any]], Status]:
    """A commitment's history rows (``views.HISTORY_COLUMNS``) in world order, and its status,
    from its facts (in recording order). Corrections and retractions recorded by
    ``known_at`` mark what they amend, whether or not they had happened by ``as_of``; a
    corrected fact shows as corrected, placed (and kept or left out by ``as_of``) at its
    corrected date."""
    facts = known(facts, known_at)
    status = evaluate(commitment_id, facts, as_of=as_of)
    shown = sorted(((fact, row) for fact, row in zip(facts, as_shown(facts)) if happened(row[0], as_of)),
                   key=lambda pair: world_key(pair[1][0]))
    stream = f"commitment:{commitment_id}"
    return [history_row(fact, stream, mark, corrected, summary) for fact, (corrected, mark, summary) in shown], status


def parties(facts: Iterable[Fact], today: date, *, as_of: date | None = None,
            known_at: datetime | None = None) -> list[dict[str, Any]]:
    """'tracker parties' as things stood: ``projections.read.parties`` over the replayed board."""
    return party_counts(statuses(facts, as_of=as_of, known_at=known_at), today)


def _stream_rows(streams: list[list[Fact]], as_of: date | None) -> dict[str, list[dict[str, Any]]]:
    """The meetings', reports' and indicators' rows of these streams as they stood on ``as_of``."""
    rows: dict[str, list[dict[str, Any]]] = {"meetings": [], "meeting_reports": [], "indicators": []}
    for stream in streams:
        if isinstance(stream[0], CommitmentEvent):
            continue
        for table, found in stream_rows([f for f in effective_events(stream) if happened(f, as_of)]).items():
            rows[table] += found
    return rows


def meetings(facts: Iterable[Fact], *, as_of: date | None = None,
             known_at: datetime | None = None) -> list[dict[str, Any]]:
    """'tracker meetings' as things stood: each meeting held by then, the counts reported by
    then, and how many of its documents were identified and signed by then."""
    streams = by_stream(known(facts, known_at))
    found = [s for s in (status_of(stream, as_of=as_of) for stream in streams) if s is not None]
    identified = identified_by_meeting(found)
    rows = _stream_rows(streams, as_of)
    result = []
    for meeting in sorted(rows["meetings"], key=lambda m: (m["occurred_on"], m["meeting_id"])):
        reports = sorted((r for r in rows["meeting_reports"] if r["meeting_id"] == meeting["meeting_id"]),
                         key=lambda r: (r["occurred_on"], r["event_id"]))
        worth = money_total((s.value["amount"], s.value["currency"]) for s in found
                            if s.value and s.meeting_id == meeting["meeting_id"])
        result.append(meeting_summary({**meeting, "identified": identified.get(meeting["meeting_id"], 0)}, reports,
                                      worth))
    return result


def indicators(facts: Iterable[Fact], *, as_of: date | None = None,
               known_at: datetime | None = None) -> list[dict[str, Any]]:
    """'tracker indicators' as things stood: the figures reported by then."""
    rows = _stream_rows(by_stream(known(facts, known_at)), as_of)["indicators"]
    rows.sort(key=lambda r: (r["period_starts_on"], r["reporter"], r["partner"], r["flow"], r["event_id"]))
    return [{column: row[column] for column in INDICATOR_COLUMNS} for row in rows]


def timeline(numbered: Iterable[tuple[int, Fact]], *, as_of: date | None = None, known_at: datetime | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
    """'tracker timeline' as things stood: every fact (with its notification id, in recording
    order) known by ``known_at`` that had happened by ``as_of``, as ``projections.read.timeline``
    lists them."""
    streams: dict[Any, list[tuple[int, Fact]]] = {}
    for position, fact in numbered:
        if known_at is None or fact.recorded_at is None or fact.recorded_at <= known_at:
            streams.setdefault(fact.originator_id, []).append((position, fact))
    rows = []
    for stream in streams.values():
        key = stream[0][1].stream_key()
        for (position, fact), (shown, mark, summary) in zip(stream, as_shown(f for _, f in stream)):
            if happened(shown, as_of):
                rows.append(dict(zip(TIMELINE_ORDER, timeline_row(position, fact, key, mark, shown, summary))))
    rows.sort(key=lambda row: (row["starts_on"], row["rank"], row["position"]))
    return [{column: row[column] for column in TIMELINE_COLUMNS} for row in rows[:limit]]
