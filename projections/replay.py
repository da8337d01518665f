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
from events.rules import Status, certainty, evaluate, world_key
from projections.views import board_row, history_row, on_board, standings


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
    ``known_at`` mark what they amend, whether or not they had happened by ``as_of``."""
    facts = known(facts, known_at)
    marks = standings(facts)
    status = evaluate(commitment_id, facts, as_of=as_of)
    shown = sorted(((f, m) for f, m in zip(facts, marks) if happened(f, as_of)), key=lambda pair: world_key(pair[0]))
    stream = f"commitment:{commitment_id}"
    return [history_row(fact, stream, mark) for fact, mark in shown], status
