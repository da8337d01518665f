"""What changed in what we know between two recording moments: the facts recorded in
between (new ones, corrections, retractions) and what they changed on the board (legal and
implementation status, next steps newly overdue).

Both ends are cuts by recording time (``recorded_at``, as ``--known-at``): the window is
``since < recorded_at <= until``. Facts with no ``recorded_at`` (stores older than the
field) count as known from the start, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events import ClaimConflicted, ClaimSettled, CommitmentEvent, EventCorrected, EventRetracted, Fact
from events.rules import Status, apply_changes, effective_events, evaluate
from projections.views import board_row

# The kinds of change, in the order they are listed.
CHANGE_KINDS = ["new fact", "correction", "retraction", "conflicting claim", "claim settled", "legal status",
                "implementation status", "newly overdue"]
COLUMNS = ["change", "subject", "event_id", "type", "occurred_on", "summary", "before", "after",
           "source_title", "recorded_at"]


@dataclass
class Changes:
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Each commitment as known at ``until``, to filter rows by party, sector... (views.on_board)
    board: dict[str, Status] = field(default_factory=dict)


def changes(facts: Iterable[Fact], since: datetime, until: datetime) -> Changes:
    """The changes recorded after ``since`` and by ``until``, from every fact in recording order."""
    streams: dict[Any, list[Fact]] = {}
    for fact in facts:
        streams.setdefault(fact.originator_id, []).append(fact)
    result = Changes()
    for stream in streams.values():
        known = [f for f in stream if _known_by(f, until)]
        subject = _subject(stream[0])
        for n, fact in enumerate(known):
            if not _known_by(fact, since):
                result.rows.append(_fact_row(fact, known[:n], subject))
        first = stream[0]
        if isinstance(first, CommitmentEvent) and first.type == "CommitmentRegistered":
            result.rows.extend(_status_rows(first.commitment_id, stream, since, until, result.board))
    order = {kind: n for n, kind in enumerate(CHANGE_KINDS)}
    result.rows.sort(key=lambda r: (order[r["change"]], r["recorded_at"] or "", r["subject"], r["event_id"] or ""))
    return result


def _known_by(fact: Fact, moment: datetime) -> bool:
    return fact.recorded_at is None or fact.recorded_at <= moment


def _subject(fact: Fact) -> str:
    """What a stream is about: a commitment's id, ``meeting:<id>`` or ``trade:<reporter>-<partner>``."""
    if isinstance(fact, CommitmentEvent):
        return fact.commitment_id
    meeting = fact.__dict__.get("meeting_id")
    if meeting:
        return f"meeting:{meeting}"
    return f"trade:{fact.__dict__.get('reporter')}-{fact.__dict__.get('partner')}"


def _fact_row(fact: Fact, earlier: list[Fact], subject: str) -> dict[str, Any]:
    """A fact recorded in the window; a correction or retraction says what it changed,
    against the facts recorded before it."""
    change, before, after, summary = "new fact", None, None, fact.summary()
    if isinstance(fact, EventCorrected):
        change = "correction"
        target = next((f for f in effective_events(earlier) if f.event_id == fact.corrects), None)
        if target is not None:
            fixed = apply_changes(target, fact.changes)
            before = "; ".join(f"{k}={_value(getattr(target, k))}" for k in sorted(fact.changes))
            after = "; ".join(f"{k}={_value(getattr(fixed, k))}" for k in sorted(fact.changes))
            summary = f"corrects {fact.corrects} ({target.summary()}): {fact.reason}"
    elif isinstance(fact, EventRetracted):
        change = "retraction"
        target = next((f for f in effective_events(earlier) if f.event_id == fact.retracts), None)
        if target is not None:
            before = f"{target.occurred_on} {target.summary()}"
            summary = f"retracts {fact.retracts} ({target.summary()}): {fact.reason}"
    elif isinstance(fact, ClaimConflicted):
        change = "conflicting claim"
        target = next((f for f in effective_events(earlier) if f.event_id == fact.conflicts_with), None)
        if target is not None:
            claimed = apply_changes(target, fact.claims, "claim")
            before = "; ".join(f"{k}={_value(getattr(target, k))}" for k in sorted(fact.claims))
            after = "; ".join(f"{k}={_value(getattr(claimed, k))}" for k in sorted(fact.claims))
            summary = f"contradicts {fact.conflicts_with} ({target.summary()})"
    elif isinstance(fact, ClaimSettled):
        change = "claim settled"
        summary = f"settles {fact.settles}: {fact.outcome} ({fact.reason})"
    source = next(iter(fact.sources), None)
    return {
        "change": change,
        "subject": subject,
        "event_id": fact.event_id,
        "type": fact.type,
        "occurred_on": fact.occurred_on,
        "summary": summary,
        "before": before,
        "after": after,
        "source_title": source.title if source else None,
        "recorded_at": fact.to_line().get("recorded_at"),
    }


def _value(value: Any) -> str:
    if hasattr(value, "model_dump"):
        import json

        return json.dumps(value.model_dump(mode="json", exclude_none=True), ensure_ascii=False, sort_keys=True)
    return str(value)


def _status_rows(commitment: str, stream: list[Fact], since: datetime, until: datetime,
                 board: dict[str, Status]) -> list[dict[str, Any]]:
    """The commitment's status and overdue step as known at ``since`` (judged on that day)
    against as known at ``until`` (judged on its day). A commitment registered in between
    has no status changes (its new facts say it all), but may be newly overdue."""
    then = board_row(evaluate(commitment, stream, known_at=since), since.date())
    state = evaluate(commitment, stream, known_at=until)
    now = board_row(state, until.date())
    if not now["kind"]:
        return []
    board[commitment] = state
    rows = []
    for change, column in (("legal status", "legal_status"), ("implementation status", "implementation_status")):
        if then["kind"] and then[column] != now[column]:
            rows.append(_status_row(change, commitment, f"{change}: {then[column]} → {now[column]}",
                                    then[column], now[column]))
    if now["overdue"] and not then["overdue"]:
        rows.append(_status_row("newly overdue", commitment,
                                f"{now['next_step']} was due by {now['next_step_due']}", None, now["next_step_due"]))
    return rows


def _status_row(change: str, commitment: str, summary: str, before: Any, after: Any) -> dict[str, Any]:
    return {"change": change, "subject": commitment, "event_id": None, "type": None, "occurred_on": None,
            "summary": summary, "before": before, "after": after, "source_title": None, "recorded_at": None}
