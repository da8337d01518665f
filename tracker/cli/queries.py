"""Commands that answer questions: the board, histories, summaries, indicators."""

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any

import typer

from events.errors import InvalidInput, UnknownCommitment
from projections.read import BOARD_COLUMNS as BOARD_ROW_COLUMNS
from projections.read import CHAIN_COLUMNS, TIMELINE_COLUMNS, short_progress
from tracker.cli import app
from tracker.cli.common import (
    AsOfOption,
    KnownAtOption,
    open_tracker,
    parse_as_of,
    parse_known_at,
    reading_views,
)
from tracker.cli.output import WITH_BASIS_HELP, Format, emit, emit_with_basis, note_basis, output_options

if TYPE_CHECKING:
    from events import Fact

FULL_BOARD_COLUMNS = BOARD_ROW_COLUMNS
BOARD_COLUMNS = ["commitment", "legal_status", "implementation", "last_change", "next_step", "sources", "overdue"]


def sourcing(row: dict[str, Any]) -> str:
    """How well a commitment is sourced, in a few characters: ``3*`` for three sources, one
    of them official; ``2 1?`` for two sources and one conflicting claim still open."""
    text = f"{row['sources']}{'*' if row['official_sources'] else ''}"
    return text + (f" {row['open_claims']}?" if row["open_claims"] else "")


def board_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Board rows folded into a few columns that fit a terminal."""
    return [
        {
            "commitment": r["commitment_id"],
            "legal_status": r["legal_status"] + (f" since {r['legal_since']}" if r["legal_since"] else ""),
            "implementation": r["implementation_status"],
            "last_change": f"{r['last_change_on']} {r['last_change']}",
            "next_step": (r["next_step"] or "") + (f" by {r['next_step_due']}" if r["next_step_due"] else ""),
            "sources": sourcing(r),
            "overdue": r["overdue"],
            **({"possibly": r["possibly"]} if "possibly" in r else {}),
        }
        for r in rows
    ]


@app.command(
    epilog="Examples:\n\n  tracker status\n\n  tracker status --party KZ --overdue\n\n"
    "  tracker status --as-of 2023-06-01 --json"
)
@output_options
def status(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    party: Annotated[str | None, typer.Option(help="Only commitments with this party (ISO code).")] = None,
    institution: Annotated[str | None, typer.Option(help="Only commitments whose parties include this institution or city (substring).")] = None,
    sector: Annotated[str | None, typer.Option(help="Only this sector.")] = None,
    meeting: Annotated[str | None, typer.Option(help="Only commitments from this meeting id.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only what is late.")] = False,
    with_basis: Annotated[bool, typer.Option("--with-basis", help=WITH_BASIS_HELP)] = False,
    fmt: Format = Format.table,
) -> None:
    """The status board: every commitment's legal and implementation status, last change,
    next expected step, how well it is sourced and whether it is overdue. The sources column
    counts the distinct sources of its standing facts (* when one is official: government,
    legislature, gazette or depositary) and the conflicting claims still open (2?)."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    today = day or date.today()
    if party is not None:
        from events.countries import ISO_3166_ALPHA2

        party = party.upper()
        if party not in ISO_3166_ALPHA2:
            import json

            raise InvalidInput(f"--party {json.dumps(party)} is not an ISO 3166-1 alpha-2 code")
    filters: dict[str, Any] = dict(party=party, institution=institution, sector=sector, meeting=meeting,
                                   overdue_only=overdue)
    if day is None and moment is None:
        from projections import read

        with reading_views(ctx) as db:
            position = db.execute("SELECT MIN(position) FROM positions").fetchone()[0] or 0
            rows = read.board(db, today, **filters)
    else:
        from projections import replay

        tracker_app = open_tracker(ctx)
        position = tracker_app.recorder.max_notification_id() or 0
        rows = replay.board((f for _, f in tracker_app.facts()), today, as_of=day, known_at=moment, **filters)
    title = "Status board" + (f" as of {day}" if day else "") + (
        f" as known at {moment.isoformat()}" if moment else ""
    )
    shown, columns, table = (board_table(rows), BOARD_COLUMNS, dict(title=title, highlight="overdue")) \
        if fmt.value == "table" else (rows, FULL_BOARD_COLUMNS, {})
    if fmt.value in ("json", "nl") and any(r["instruments"] for r in rows):
        columns = [*columns, *CHAIN_COLUMNS]  # commitments carried by several instruments
    if day is not None and (fmt.value != "table" or any(r["possibly"] for r in rows)):
        columns = [*columns, "possibly"]  # what possibly had happened by then: shown, not counted
    if with_basis:
        from tracker.basis import Basis

        basis = Basis(as_of=day.isoformat() if day else None, today=today.isoformat(),
                      known_at=(moment or datetime.now(timezone.utc)).isoformat(), position=position)
        emit_with_basis(shown, columns, fmt, basis.to_dict(), **table)
    else:
        emit(shown, columns, fmt, **table)


HISTORY_COLUMNS = [c for c in TIMELINE_COLUMNS if c != "subject"]  # one commitment: no subject


@app.command(
    epilog="Examples:\n\n  tracker history xian-2023-visa-exemption\n\n"
    "  tracker history xian-2023-visa-exemption --as-of 2023-06-01 --csv"
)
@output_options
def history(
    ctx: typer.Context,
    commitment: Annotated[str, typer.Argument(help="Commitment id (see 'tracker status').")],
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: Format = Format.table,
) -> None:
    """The history of one commitment in world order, every event with its source;
    corrected and retracted events stay, marked: a corrected event shows as corrected, at its
    corrected date, and its correction the old and new values ("occurred_on: 2024-03-10 ->
    2024-03-01") with the correcting source. --known-at before a correction shows the event as
    it was then known."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    if day is None and moment is None:
        from projections import read

        with reading_views(ctx) as db:
            if not read.commitment_exists(db, commitment):
                raise UnknownCommitment(f"no commitment {commitment!r} (see 'tracker status')")
            rows = read.timeline(db, stream=f"commitment:{commitment}")
            found = db.execute("SELECT legal_status, legal_since, implementation_status, progress, instruments"
                               " FROM commitments WHERE commitment_id = ?", [commitment]).fetchone()
            unrecorded = read.relations_to_unrecorded(db, commitment)
        header = history_header(found["instruments"] or found["legal_status"], found["legal_since"],
                                found["implementation_status"],
                                json.loads(found["progress"]) if found["progress"] else None)
    else:
        from projections import replay

        tracker_app = open_tracker(ctx)
        note_basis(tracker_app.recorder.max_notification_id() or 0, as_of=day.isoformat() if day else None,
                   known_at=moment.isoformat() if moment else None)
        facts = tracker_app.history(commitment)
        rows, state = replay.history(commitment, facts, as_of=day, known_at=moment)
        from events import CommitmentsRelated
        from projections.views import instrument_chain

        header = history_header(instrument_chain(state)["instruments"] or state.legal_status, state.legal_since,
                                state.implementation_status, state.progress()) + (
            f"; possibly: {'; '.join(state.possibly)}" if state.possibly else "")
        unrecorded = {f.event_id for f in facts if isinstance(f, CommitmentsRelated)
                      and not _recorded(tracker_app, f.other_commitment_id, moment)}
    for row in rows:
        if row["event_id"] in unrecorded:
            row["summary"] += " (not recorded yet)"
    if fmt.value == "table":
        title = f"History of {commitment}" + (f" as of {day}" if day else "") + (
            f" as known at {moment.isoformat()}" if moment else "")
        for row in rows:
            if not row["source_title"]:
                row["source_title"] = "(no source)"
            more = (row["sources"] or "").count("\n")
            if more:
                row["source_title"] += f" (+{more} more)"
        emit(rows, ["occurred_on", "event_id", "summary", "note", "source_title", "standing"], fmt,
             title=title + (f" — {header}" if header else ""))
    else:
        emit(rows, HISTORY_COLUMNS, fmt)


def _recorded(tracker_app: Any, commitment_id: str, known_at: datetime | None) -> bool:
    """Whether a commitment was recorded (by ``known_at``, when given)."""
    try:
        facts = tracker_app.history(commitment_id)
    except UnknownCommitment:
        return False
    return any(known_at is None or f.recorded_at is None or f.recorded_at <= known_at for f in facts)


@app.command(epilog="Examples:\n\n  tracker timeline\n\n  tracker timeline --limit 20 --json\n\n"
             "  tracker timeline --known-at 2024-01-01")
@output_options
def timeline(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many events.")] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: Format = Format.table,
) -> None:
    """Every event in the store in world order, with its source; a corrected event shows as
    corrected, at its corrected date, and its correction the old and new values."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    if day is None and moment is None:
        from projections import read

        with reading_views(ctx) as db:
            rows = read.timeline(db, limit=limit)
    else:
        from projections import replay

        tracker_app = open_tracker(ctx)
        note_basis(tracker_app.recorder.max_notification_id() or 0, as_of=day.isoformat() if day else None,
                   known_at=moment.isoformat() if moment else None)
        rows = replay.timeline(tracker_app.facts(), as_of=day, known_at=moment, limit=limit)
    emit(rows, TIMELINE_COLUMNS, fmt, title=as_asked("Timeline", day, moment),
         table_columns=["occurred_on", "subject", "event_id", "summary", "source_title", "standing"])


def replayed_facts(ctx: typer.Context, day: date | None, moment: datetime | None) -> "Iterator[Fact]":
    """Every stored fact in recording order, for a replay as of ``day`` / as known at
    ``moment``; the answer's basis is the store's position now."""
    tracker_app = open_tracker(ctx)
    note_basis(tracker_app.recorder.max_notification_id() or 0, as_of=day.isoformat() if day else None,
               known_at=moment.isoformat() if moment else None)
    return (fact for _, fact in tracker_app.facts())


def live_or_replayed(ctx: typer.Context, day: date | None, moment: datetime | None, listing: str,
                     *args: Any) -> list[dict[str, Any]]:
    """A listing's rows: read from the live read models (``projections.read.<listing>``), or,
    with --as-of or --known-at, replayed from the facts by its twin of the same name
    (``projections.replay.<listing>``)."""
    if day is None and moment is None:
        from projections import read

        with reading_views(ctx) as db:
            return getattr(read, listing)(db, *args)
    from projections import replay

    return getattr(replay, listing)(replayed_facts(ctx, day, moment), *args, as_of=day, known_at=moment)


def as_asked(title: str, day: date | None, moment: datetime | None) -> str:
    return title + (f" as of {day}" if day else "") + (f" as known at {moment.isoformat()}" if moment else "")


@app.command(epilog="Examples:\n\n  tracker parties\n\n  tracker parties --as-of 2023-12-31 --csv")
@output_options
def parties(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: Format = Format.table,
) -> None:
    """Per party and per institution: how many commitments, signed, in force, completed, overdue.
    A row with an empty institution is the country's total. With --as-of or --known-at, the
    counts as things then stood, replayed from the facts."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    today = day or date.today()
    rows = live_or_replayed(ctx, day, moment, "parties", today)
    emit(rows, ["country", "institution", "commitments", "signed", "in_force", "completed", "overdue"],
         fmt, title=as_asked("Parties", day, moment))


@app.command(epilog="Examples:\n\n  tracker meetings\n\n  tracker meetings --as-of 2023-05-31 --json")
@output_options
def meetings(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: Format = Format.table,
) -> None:
    """Per meeting: documents reported signed (each count with its source) and how many
    of them are identified in the tracker. With --as-of or --known-at, as things then stood."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    rows = live_or_replayed(ctx, day, moment, "meetings")
    columns = ["meeting_id", "title", "occurred_on", "summary", "reported", "unnamed", "contracts_worth"]
    emit(rows, columns + ["place", "identified"], fmt, table_columns=columns, title=as_asked("Meetings", day, moment))


@app.command(epilog="Examples:\n\n  tracker indicators\n\n  tracker indicators --as-of 2023-12-31 --csv")
@output_options
def indicators(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: Format = Format.table,
) -> None:
    """Trade indicators over time, each figure with its source. With --as-of or --known-at,
    the figures reported by then."""
    day, moment = parse_as_of(as_of), parse_known_at(known_at)
    rows = live_or_replayed(ctx, day, moment, "indicators")
    columns = ["period", "reporter", "partner", "flow", "value", "currency", "change_pct", "source_title"]
    emit(rows, columns + ["source_publisher", "occurred_on", "event_id"], fmt, table_columns=columns,
         title=as_asked("Trade indicators", day, moment))


def history_header(legal: str, since: str | None, implementation: str, progress: dict[str, str] | None) -> str:
    """What a history's title says of where the commitment stands: its legal status (the
    chain of instruments, when more than one carried it) and since when, implementation and
    each side's."""
    sides = short_progress(progress)
    return f"{legal}" + (f" since {since}" if since else "") + f" / {implementation}" + (f" ({sides})" if sides else "")
