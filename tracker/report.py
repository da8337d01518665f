"""The self-contained HTML status report: board, timeline chart, summaries, indicators.

Everything is computed from the events (so ``--as-of`` works here too) and rendered by
a Jinja2 template with autoescaping: text from input is always shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from events import DocumentsReported, Fact, MeetingHeld, TradeFigureReported, world_period
from events.rules import LEGAL_FROM, Status, effective_events, world_key
from projections.read import money_total, short_progress
from projections.replay import by_stream, happened, status_of
from projections.views import amended, board_row, identified_by_meeting, party_counts

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
    streams = by_stream(fact for _, fact in app.facts())
    statuses: list[tuple[Status, list[Fact]]] = []
    facts_rows: list[Fact] = []
    meetings: list[dict[str, Any]] = []
    indicators: list[TradeFigureReported] = []
    marks: dict[str, str] = {}
    for facts in streams:
        marks.update(amended(facts))
    for facts in streams:
        first = facts[0]
        visible = [f for f in effective_events(facts) if happened(f, as_of)]
        status = status_of(facts, as_of=as_of)
        if status is not None:
            statuses.append((status, sorted(visible, key=world_key)))
        elif isinstance(first, MeetingHeld):
            held = next((f for f in visible if isinstance(f, MeetingHeld)), first)
            meetings.append({"meeting": held, "reports": [f for f in visible if isinstance(f, DocumentsReported)]})
        indicators.extend(f for f in visible if isinstance(f, TradeFigureReported))
        facts_rows.extend(f for f in facts if happened(f, as_of))
    statuses.sort(key=lambda pair: pair[0].commitment_id)
    board = []
    for status, events in statuses:
        last = next((e for e in reversed(events) if e.event_id == status.last_event_id), None)
        board.append({**board_row(status, today), "last_sources": last.sources if last else [], "events": events})
    identified = identified_by_meeting(status for status, _ in statuses)
    for meeting in meetings:
        meeting["identified"] = identified.get(meeting["meeting"].meeting_id, 0)
        meeting["contracts_worth"] = money_total(
            (s.value["amount"], s.value["currency"]) for s, _ in statuses
            if s.value and s.meeting_id == meeting["meeting"].meeting_id)
    drawn = [p for _, evs in statuses for f in evs if (p := drawn_period(f.occurred_on, today))]
    all_days = [p[0] for p in drawn]
    chart_end = max([today, *[p[1] for p in drawn]]) if all_days else today
    chart = Chart(start=min(all_days, default=today).replace(day=1), end=chart_end)
    return {
        "as_of": as_of,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "board": board,
        "overdue": sum(1 for r in board if r["overdue"]),
        "chart": chart,
        "meetings": sorted(meetings, key=lambda m: (m["meeting"].occurred_on, m["meeting"].meeting_id)),
        "parties": party_counts((status for status, _ in statuses), today),
        "indicators": sorted(indicators, key=lambda f: (world_period(f.period)[0], f.reporter, f.flow)),
        "trade_chart": trade_chart(indicators),
        "facts": sorted(facts_rows, key=world_key),
        "marks": marks,
        "legal_types": LEGAL_TYPES,
        "world_period": lambda occurred_on: drawn_period(occurred_on, today),
        "short_progress": short_progress,
    }


def drawn_period(occurred_on: str, today: date) -> tuple[date, date, str] | None:
    """The part of a world date's period the timeline chart draws: an open start at its
    bound, an open end up to ``today``; an unknown date nowhere (None)."""
    first, last, precision = world_period(occurred_on)
    if precision.startswith("unknown"):
        return None
    if precision == "before":
        return last, last, precision
    if precision == "after":
        return first, max(first, min(last, today)), precision
    return first, last, precision


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
