"""Commands that move histories in and out: demo, import, export, rebuild, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from tracker.cli import app
from tracker.cli.common import bulk_work, catch_up_views, open_tracker, progress_bar, say, store
from tracker.errors import InvalidInput

if TYPE_CHECKING:
    from events import Fact

DEMO = "xian-2023-05-17.jsonl"
MAX_LINE = 1_000_000


def read_lines(stream: TextIO, name: str) -> list[Fact]:
    """Every line of a JSON Lines history as an event, or InvalidInput naming the first bad line."""
    import orjson

    from events import parse_line
    from tracker.validation import one_line

    facts = []
    for number, text in enumerate(stream, 1):
        if not text.strip():
            continue
        if len(text) > MAX_LINE:
            raise InvalidInput(f"{name}:{number}: line longer than {MAX_LINE} characters")
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"{name}:{number}: not JSON ({error.msg})") from None
        try:
            facts.append(parse_line(data))
        except ValueError as error:
            raise InvalidInput(f"{name}:{number}: {one_line(error)}") from None
    return facts


def record_all(ctx: typer.Context, facts: list[Fact], label: str) -> Any:
    app_ = open_tracker(ctx)
    with progress_bar(len(facts), label) as bar:
        task = bar.add_task(label, total=len(facts))
        result = app_.record_many(facts, progress=lambda n: bar.update(task, completed=n))
    catch_up_views(ctx, app_, result)
    return result


@app.command("import", epilog="Examples:\n\n  tracker import history.jsonl\n\n  cat new.jsonl | tracker import -")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="JSON Lines file, one event per line ('-' for stdin).")],
) -> None:
    """Import a JSON Lines history, all or nothing. Events already recorded with the same id
    and content are skipped, so importing twice changes nothing."""
    with bulk_work():
        if file == "-":
            facts = read_lines(sys.stdin, "stdin")
        else:
            path = Path(file)
            if not path.is_file():
                raise InvalidInput(f"no file {file!r}")
            try:
                with path.open(encoding="utf-8") as handle:
                    facts = read_lines(handle, path.name)
            except UnicodeDecodeError:
                raise InvalidInput(f"{file}: not UTF-8 text") from None
        result = record_all(ctx, facts, "importing")
    say(f"imported {result.added} new events, {result.unchanged} already recorded")


@app.command(epilog="Examples:\n\n  tracker export > history.jsonl\n\n  tracker export backup.jsonl")
def export(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(help="Write here instead of stdout.")] = None,
) -> None:
    """Export every event as JSON Lines, in recording order, that 'tracker import' reads back unchanged."""
    import orjson

    app_ = open_tracker(ctx)
    out = open(file, "wb") if file else sys.stdout.buffer
    count = 0
    try:
        for _, fact in app_.facts():
            out.write(orjson.dumps(fact.to_line()) + b"\n")
            count += 1
    finally:
        if file:
            out.close()
        else:
            out.flush()
    say(f"exported {count} events")


@app.command(epilog="Example:\n\n  tracker rebuild")
def rebuild(ctx: typer.Context) -> None:
    """Rebuild every read model from the events, from scratch, and swap it in when done
    (on a large store, two worker processes read and fold the streams)."""
    from projections.rebuild import count_facts
    from projections.rebuild import rebuild as rebuild_views

    app_ = open_tracker(ctx)
    total = count_facts(app_)
    with bulk_work(), progress_bar(total, "rebuilding") as bar:
        task = bar.add_task("rebuilding", total=total)
        count = rebuild_views(app_, store(ctx).views, progress=lambda done: bar.update(task, completed=done))
    say(f"rebuilt the read models from {count} events")


@app.command(epilog="Examples:\n\n  tracker demo\n\n  tracker --db demo.db demo")
def demo(ctx: typer.Context) -> None:
    """Load the bundled history of the Kazakhstan–China state visit of 17 May 2023 (Xian)
    into the store in use, once, and show the board and the meeting summary."""
    from importlib.resources import files

    from projections import read
    from tracker.cli.output import Format, emit
    from tracker.cli.queries import BOARD_COLUMNS, board_table

    source = files("tracker.demo").joinpath(DEMO)
    with source.open(encoding="utf-8") as handle:
        facts = read_lines(handle, DEMO)
    result = record_all(ctx, facts, "loading the demo")
    say(f"demo history: {result.added} events added, {result.unchanged} already there"
        f" (store: {store(ctx).label})")
    from datetime import date

    with read.connect(store(ctx).views) as db:
        board = read.board(db, date.today())
        meetings = read.meetings(db)
    emit(board_table(board), BOARD_COLUMNS, Format.table, title="Status board", highlight="overdue")
    emit(meetings, ["meeting_id", "title", "summary", "reported"], Format.table, title="Meetings")


@app.command(epilog="Examples:\n\n  tracker schema\n\n  tracker schema DocumentSigned")
def schema(
    event_type: Annotated[str | None, typer.Argument(help="Only this event type.")] = None,
) -> None:
    """Print the JSON Schema of the import format: one object per line, ``type`` names the event."""
    from tracker.schemas import event_schema

    print(json.dumps(event_schema(event_type), indent=2, ensure_ascii=False))
