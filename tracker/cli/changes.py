"""What changed in what we know: the facts recorded between two moments and what they moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from events.errors import InvalidInput
from tracker.cli import app

if TYPE_CHECKING:
    from events.rules import Status
from tracker.cli.common import open_tracker, parse_known_at, store, warn
from tracker.cli.output import (
    WITH_BASIS_HELP,
    Format,
    emit,
    emit_with_basis,
    output_options,
)
from tracker.config import Store, data_dir

TABLE_COLUMNS = ["change", "subject", "occurred_on", "summary", "source_title", "recorded_at"]
LAST_RUNS = "changes-last.json"  # in the per-user data folder: each store's last --until


def last_runs_file() -> Path:
    return data_dir() / LAST_RUNS


def store_key(s: Store) -> str:
    return s.label if s.is_postgres else str(Path(s.location).resolve())


def remembered_until(s: Store) -> datetime | None:
    import json

    try:
        value = json.loads(last_runs_file().read_text(encoding="utf-8")).get(store_key(s))
        return datetime.fromisoformat(value) if value else None
    except (OSError, ValueError, AttributeError):
        return None


def remember_until(s: Store, moment: datetime) -> None:
    """Keep ``moment`` as where the next ``--since last`` starts, unless a later one is kept
    (looking back at an older window does not move it back)."""
    import json
    import os
    import tempfile

    path = last_runs_file()
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
        runs = runs if isinstance(runs, dict) else {}
    except (OSError, ValueError):
        runs = {}
    kept = remembered_until(s)
    if kept is not None and kept >= moment:
        return
    runs[store_key(s)] = moment.isoformat()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(runs, out, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError as error:
        warn(f"could not remember this run for '--since last' in {path} ({error.strerror})")


@app.command(
    epilog="Examples:\n\n  tracker changes --since 2023-05-17\n\n"
    "  tracker changes --since 2023-05-17 && tracker changes --since last\n\n"
    "  tracker changes --since 2023-05-01 --until 2023-06-01 --party KZ --json"
)
@output_options
def changes(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(
        "--since", show_default=False,
        help="Recording time to compare from: YYYY-MM-DD (the end of that day, UTC), an ISO timestamp,"
        " or 'last': where your previous 'tracker changes' on this store ended.")],
    until: Annotated[str | None, typer.Option(
        "--until", show_default=False,
        help="Recording time to compare to, as --since (default: now).")] = None,
    party: Annotated[str | None, typer.Option(help="Only commitments with this party (ISO code).")] = None,
    institution: Annotated[str | None, typer.Option(help="Only commitments whose parties include this institution or city (substring).")] = None,
    sector: Annotated[str | None, typer.Option(help="Only this sector.")] = None,
    meeting: Annotated[str | None, typer.Option(help="Only commitments from this meeting id, and the meeting's own facts.")] = None,
    with_basis: Annotated[bool, typer.Option("--with-basis", help=WITH_BASIS_HELP)] = False,
    fmt: Format = Format.table,
) -> None:
    """What changed in what we know between two recording times: new facts, corrections and
    retractions recorded in between (what each changed), commitments whose legal or
    implementation status moved (old → new), and next steps that became overdue (judged on
    each end's day)."""
    from projections.changes import COLUMNS
    from projections.changes import changes as changes_between
    from tracker.basis import current_basis, facts_on

    s = store(ctx)
    start = remembered_until(s) if since == "last" else parse_known_at(since, "--since")
    if start is None:
        raise InvalidInput("no previous 'tracker changes' on this store to start from:"
                           " give a date or time, such as --since 2024-01-01")
    end = parse_known_at(until, "--until") or datetime.now(timezone.utc)
    if start >= end:
        raise InvalidInput(f"--since {start.isoformat()} is not before --until {end.isoformat()}")
    party = _party_code(party)
    tracker_app = open_tracker(ctx)
    basis = replace(current_basis(tracker_app, None, end, start), today=end.date().isoformat())  # judged then
    found = changes_between((fact for _, fact in facts_on(tracker_app, basis)), start, end)
    filtered = party or institution or sector or meeting
    rows = [r for r in found.rows if not filtered or _kept(r, found.board, party, institution, sector, meeting,
                                                                end.date())]
    title = f"Changes recorded after {start.isoformat()} up to {end.isoformat()}"
    table: dict[str, Any] = {"table_columns": TABLE_COLUMNS, "title": title}
    if with_basis:
        emit_with_basis(rows, COLUMNS, fmt, basis.to_dict(), **table)
    else:
        emit(rows, COLUMNS, fmt, **table)
    remember_until(s, end)


def _kept(row: dict[str, Any], board: dict[str, Status], party: str | None, institution: str | None,
          sector: str | None, meeting: str | None, today: date) -> bool:
    from projections.views import on_board

    commitment = board.get(row["subject"])
    if commitment is not None:
        return on_board(commitment, today, party=party, institution=institution, sector=sector, meeting=meeting)
    # A meeting's own facts go with its commitments; trade figures have no party filter to pass.
    return not (party or institution or sector) and row["subject"] == f"meeting:{meeting}"


def _party_code(party: str | None) -> str | None:
    if party is None:
        return None
    from events.countries import ISO_3166_ALPHA2

    if party.upper() not in ISO_3166_ALPHA2:
        import json

        raise InvalidInput(f"--party {json.dumps(party.upper())} is not an ISO 3166-1 alpha-2 code")
    return party.upper()
