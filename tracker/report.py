"""The self-contained HTML status report: board, timeline chart, summaries, indicators.

Everything is computed from the events (so ``--as-of`` works here too) and rendered by
a Jinja2 template with autoescaping: text from input is always shown as text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from events import (
    CommitmentEvent,
    DocumentsReported,
    EventCorrected,
    EventRetracted,
    Fact,
    MeetingHeld,
    TradeFigureReported,
    world_period,
)
from events.rules import LEGAL_FROM, effective_events, evaluate, world_key

LEGAL_TYPES = {cls.__name__ for cls in LEGAL_FROM}  # drawn in the legal track's colour


@dataclass
class Chart:
    """Geometry of the timeline chart (inline SVG)."""

    start: date
    end: date
    width: int = 760
    left: int = 230
    row: int = 22

    def x(self, day: date) -> float:
        span = max((self.end - self.start).days, 1)
        return round(self.left + (day - self.start).days / span * self.width, 1)

    def ticks(self) -> list[tuple[float, str]]:
        years = range(self.start.year, self.end.year + 1)
        marks = []
        for year in years:
            for month in (1, 7) if len(years) <= 4 else (1,):
                day = date(year, month, 1)
                if self.start <= day <= self.end:
                    marks.append((self.x(day), day.isoformat()[:7]))
        return marks


def build(app: Any, as_of: date | None = None, today: date | None = None) -> dict[str, Any]:
    """The report's data, from every stored fact; ``today`` (default: the real one) judges
    what is overdue when no ``as_of`` is given."""
    today = as_of or today or date.today()
    streams: dict[Any, list[Fact]] = defaultdict(list)
    for _, fact in app.facts():
        streams[fact.originator_id].append(fact)
    statuses, facts_rows, meetings, indicators = [], [], [], []
    marks: dict[str, str] = {}
    for facts in streams.values():
        for f in facts:
            if isinstance(f, EventCorrected):
                marks[f.corrects] = f"corrected by {f.event_id}"
            elif isinstance(f, EventRetracted):
                marks[f.retracts] = f"retracted by {f.event_id}"
    for facts in streams.values():
        first = facts[0]
        visible = [f for f in effective_events(facts) if as_of is None or world_period(f.occurred_on)[1] <= as_of]
        shown = [f for f in facts if as_of is None or world_period(f.occurred_on)[1] <= as_of]
        if isinstance(first, CommitmentEvent) and first.type == "CommitmentRegistered":
            status = evaluate(first.commitment_id, facts, as_of=as_of)
            if status.kind:
                statuses.append((status, sorted(visible, key=world_key)))
        elif isinstance(first, MeetingHeld):
            held = next((f for f in visible if isinstance(f, MeetingHeld)), first)
            meetings.append({"meeting": held, "reports": [f for f in visible if isinstance(f, DocumentsReported)]})
        indicators.extend(f for f in visible if isinstance(f, TradeFigureReported))
        facts_rows.extend(shown)
    statuses.sort(key=lambda pair: pair[0].commitment_id)
    board = []
    for status, events in statuses:
        row = status.board_row(today)
        last = next((e for e in reversed(events) if e.event_id == status.last_event_id), None)
        board.append({**row, "source": last.source if last else None, "events": events})
    for meeting in meetings:
        meeting["identified"] = sum(
            1 for s, _ in statuses
            if s.meeting_id == meeting["meeting"].meeting_id and s.counted_in_meeting_total
            and s.legal_status != "not signed"
        )
    parties: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row, (status, _) in zip(board, statuses):
        keys = {(p["country"], "") for p in status.parties} | {
            (p["country"], p["institution"]) for p in status.parties if p.get("institution")
        }
        for key in keys:
            counts = parties[key]
            counts["commitments"] += 1
            counts["signed"] += status.legal_status != "not signed"
            counts["in_force"] += status.legal_status == "in force"
            counts["completed"] += status.implementation_status == "completed"
            counts["overdue"] += row["overdue"]
    all_days = [world_period(f.occurred_on)[0] for _, evs in statuses for f in evs]
    chart_end = max([today, *[world_period(f.occurred_on)[1] for _, evs in statuses for f in evs]]) if all_days else today
    chart = Chart(start=min(all_days, default=today).replace(day=1), end=chart_end)
    return {
        "as_of": as_of,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "board": board,
        "overdue": sum(1 for r in board if r["overdue"]),
        "chart": chart,
        "meetings": sorted(meetings, key=lambda m: (m["meeting"].occurred_on, m["meeting"].meeting_id)),
        "parties": [{"country": c, "institution": i, **counts} for (c, i), counts in sorted(parties.items())],
        "indicators": sorted(indicators, key=lambda f: (world_period(f.period)[0], f.reporter, f.flow)),
        "trade_chart": trade_chart(indicators),
        "facts": sorted(facts_rows, key=world_key),
        "marks": marks,
        "legal_types": LEGAL_TYPES,
        "world_period": world_period,
    }


def trade_chart(figures: list[TradeFigureReported]) -> dict[str, Any]:
    """Bars per period and flow, scaled to the largest value."""
    if not figures:
        return {"bars": [], "height": 0}
    periods = sorted({f.period for f in figures}, key=lambda p: world_period(p)[0])
    flows = sorted({f.flow for f in figures})
    top = max(float(f.value) for f in figures) or 1.0
    bars, width, gap = [], 26, 14
    for i, period in enumerate(periods):
        for j, flow in enumerate(flows):
            value = next((float(f.value) for f in figures if f.period == period and f.flow == flow), None)
            if value is None:
                continue
            height = round(value / top * 140, 1)
            x = 40 + i * (len(flows) * width + gap) + j * width
            bars.append({"x": x, "y": 160 - height, "height": height, "flow": flow, "period": period,
                         "label": f"{value / 1e9:.1f}bn" if value >= 1e9 else f"{value / 1e6:.0f}m"})
    return {"bars": bars, "periods": periods, "flows": flows,
            "width": 60 + len(periods) * (len(flows) * width + gap), "group": len(flows) * width + gap,
            "height": 200}


def render(data: dict[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("tracker", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**data)
