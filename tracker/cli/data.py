"""Commands that move histories in and out: demo, import, export, rebuild, schema."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, BinaryIO, TextIO

import typer

from events.errors import InvalidInput, StoreUnavailable, TrackerError
from tracker.cli import app
from tracker.cli.common import (
    bulk_work,
    catch_up_after_recording,
    open_tracker,
    progress_bar,
    refuse_overwriting_store,
    say,
    store,
)

if TYPE_CHECKING:
    from events import Fact

DEMO = "xian-2023-05-17.jsonl"
MAX_LINE = 1_000_000
BASIS_LINE = "Basis"  # the type of the line 'export --with-basis' ends with


def parsed_lines(stream: IO[str], name: str) -> Iterator[tuple[int, Fact]]:
    """Each line of a JSON Lines history as its number and its event; InvalidInput names
    the first bad line."""
    import orjson

    from events.validation import one_line
    from events.vocabulary import read_line

    for number, text in enumerate(stream, 1):
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors save UTF-8
        if not text.strip():
            continue
        if len(text) > MAX_LINE:
            raise InvalidInput(f"{name}:{number}: line longer than {MAX_LINE} characters")
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"{name}:{number}: not JSON ({error.msg})") from None
        if isinstance(data, dict) and data.get("type") == BASIS_LINE:
            continue  # what an export was made from ('export --with-basis'), not an event
        try:
            yield number, read_line(data)
        except ValueError as error:
            raise InvalidInput(f"{name}:{number}: {one_line(error)}") from None


def read_lines(stream: IO[str], name: str) -> list[Fact]:
    """Every line of a JSON Lines history as an event, or InvalidInput naming the first bad line."""
    return [fact for _, fact in parsed_lines(stream, name)]


def record_all(ctx: typer.Context, facts: list[Fact], label: str) -> Any:
    app_ = open_tracker(ctx)
    with progress_bar(len(facts), label) as bar:
        task = bar.add_task(label, total=len(facts))
        result = app_.record_many(facts, progress=lambda n: bar.update(task, completed=n))
    catch_up_after_recording(ctx, app_, result)
    return result


def record_in_chunks(ctx: typer.Context, handle: TextIO, name: str, size: int) -> tuple[int, int]:
    """Check every line, then record them ``size`` at a time, each chunk all or nothing;
    returns how many events were added and how many were already recorded."""
    from itertools import islice

    from events.errors import SaveOutcomeUnknown, StoreUnavailable, TrackerError
    from tracker.bulk import line_named

    total = unsourced = 0
    for _, fact in parsed_lines(handle, name):  # a bad line stops it before any write
        total += 1
        unsourced += fact.source is None
    handle.seek(0)
    app_ = open_tracker(ctx)
    added = unchanged = recorded_to = 0
    views_caught_up = True
    lines = parsed_lines(handle, name)
    with progress_bar(total, "importing") as bar:
        task = bar.add_task("importing", total=total)
        while chunk := list(islice(lines, size)):
            try:
                result = app_.record_many([fact for _, fact in chunk])
            except TrackerError as error:
                kept = f"lines 1 to {recorded_to} are recorded" if recorded_to else "nothing was recorded"
                line = line_named(error, chunk)
                lines_ = f"lines {chunk[0][0]} to {chunk[-1][0]}" if line is None else f"line {line}"
                if isinstance(error, SaveOutcomeUnknown):
                    error.args = (f"{name}: {lines_} may or may not be recorded: {error.cause}; {kept};"
                                  " importing the file again is safe (what is recorded is skipped)",)
                else:
                    again = ("import the file again when the store answers" if isinstance(error, StoreUnavailable)
                             else "fix it and import the file again")
                    where = f"{name}: {lines_}" if line is None else f"{name}:{line}"
                    error.args = (f"{where}: {error}; {kept} ({again}: what is recorded is skipped)",)
                raise
            added, unchanged = added + result.added, unchanged + result.unchanged
            recorded_to = chunk[-1][0]
            if views_caught_up:  # once behind, they catch up on the next command, not once a chunk
                views_caught_up = catch_up_after_recording(ctx, app_, result)
            bar.update(task, advance=len(chunk))
    warn_unsourced(unsourced, total)
    return added, unchanged


def import_streamed(ctx: typer.Context, handle: TextIO, name: str) -> tuple[int, int]:
    """Import every line all or nothing, holding on disk what a line-at-a-time read does not
    need (tracker.bulk); returns how many events were added and how many were recorded already."""
    from events.errors import SaveOutcomeUnknown
    from tracker.bulk import import_lines

    counted = {"lines": 0, "unsourced": 0}

    def counting(lines: Iterator[tuple[int, Fact]]) -> Iterator[tuple[int, Fact]]:
        for line in lines:
            counted["lines"] += 1
            counted["unsourced"] += line[1].source is None
            yield line

    opened: list[Any] = []

    def open_app() -> Any:  # once every line is read: a bad line leaves the store's files alone
        if not opened:
            opened.append(open_tracker(ctx))
        return opened[0]

    with progress_bar(5000, "importing") as bar:
        task = bar.add_task("importing", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = import_lines(open_app, counting(parsed_lines(handle, name)), progress)
        except SaveOutcomeUnknown as error:
            error.args = (f"{name}: the whole file may or may not be recorded (all of it or none): {error.cause};"
                          " importing it again is safe (what is recorded is skipped)",)
            raise
        except TrackerError as error:
            line = getattr(error, "line", None)
            if line is not None:
                error.args = (f"{name}:{line}: {error}",)
            raise
    warn_unsourced(counted["unsourced"], counted["lines"])
    if result.added:
        catch_up_after_recording(ctx, open_app(), None, result.added)
    return result.added, result.unchanged


def warn_unsourced(unsourced: int, total: int) -> None:
    """Unsourced lines are imported (older histories have them), with one warning for them all."""
    from tracker.cli.common import warn

    if unsourced:
        warn(f"{unsourced} of {total} events have no source: they show '(no source)';"
             " give each line a \"source\" to say where it comes from")


@app.command("import", epilog="Examples:\n\n  tracker import history.jsonl\n\n  cat new.jsonl | tracker import -"
             "\n\n  tracker import million-events.jsonl\n\n  tracker import --chunk 100000 million-events.jsonl")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="JSON Lines file, one event per line ('-' for stdin).")],
    chunk: Annotated[int | None, typer.Option(
        "--chunk", min=1, metavar="N", show_default=False,
        help="Record N events at a time, each N all or nothing, as if the file came in files of N"
        " events (without it, the whole file is one transaction; memory holds one commitment at a"
        " time either way). Every line is checked first; a fact refused midway leaves the chunks"
        " before its own recorded: fix it and import the file again (what is recorded is skipped).")] = None,
) -> None:
    """Import a JSON Lines history, all or nothing, recorded in the file's order. Events
    already recorded with the same id and content are skipped, so importing twice changes
    nothing. A file of any size: its lines wait in a temporary file while each commitment is
    checked with all of its own, so memory holds one commitment at a time, not the file. Lines written by an older tracker are upcast: a line's "class_version" says the
    version of its event type it was written at (absent: the versions of 0.6, as exports of
    0.5 and 0.6 and hand-written lines are)."""
    import tempfile

    with bulk_work(), ExitStack() as opened:
        try:
            if file == "-":
                name, handle = "stdin", sys.stdin
                if chunk is not None:  # read twice: kept on disk, not in memory
                    handle = opened.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
                    try:
                        shutil.copyfileobj(sys.stdin, handle)
                        handle.seek(0)
                    except OSError as error:
                        raise StoreUnavailable(f"cannot keep stdin in a temporary file in {tempfile.gettempdir()}:"
                                               f" {error.strerror}; nothing was written (TMPDIR chooses the folder)"
                                               ) from None
            else:
                path = Path(file)
                if not path.is_file():
                    raise InvalidInput(f"no file {file!r}")
                name, handle = path.name, opened.enter_context(path.open(encoding="utf-8"))
            if chunk is None:
                added, unchanged = import_streamed(ctx, handle, name)
            else:
                added, unchanged = record_in_chunks(ctx, handle, name, chunk)
        except UnicodeDecodeError:
            raise InvalidInput(f"{'stdin' if file == '-' else file}: not UTF-8 text") from None
    say(f"imported {added} new events, {unchanged} already recorded")


@app.command(epilog="Examples:\n\n  tracker export > history.jsonl\n\n  tracker export backup.jsonl"
             "\n\n  tracker export --with-basis published.jsonl")
def export(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(help="Write here instead of stdout ('-' for stdout).")] = None,
    with_basis: Annotated[bool, typer.Option(
        "--with-basis", help="End with a line {\"type\": \"Basis\", ...}: the store's position and the moment"
        " of the export, and how many events it holds ('tracker import' skips it).")] = False,
) -> None:
    """Export every event as JSON Lines, in recording order (the store's, across all
    commitments, meetings and indicators), that 'tracker import' reads back unchanged:
    importing it into a new store and exporting that gives the same bytes. A line whose
    event type is at a class version above 1 says it ("class_version": 2, after "type"), so
    a later tracker can upcast it; a line without one is read at the versions of 0.6. The
    file is readable by its owner only, and appears only once complete."""
    import orjson

    from events.vocabulary import export_line
    from tracker.basis import current_basis

    if file and file != "-":
        refuse_overwriting_store(ctx, file)
    app_ = open_tracker(ctx)
    basis = current_basis(app_, None, None)
    count = 0
    with private_output(file) as out:
        for position, fact in app_.facts():
            if position > basis.position:  # recorded while exporting: not in what the basis names
                break
            out.write(orjson.dumps(export_line(fact)) + b"\n")
            count += 1
        if with_basis:
            stamp = {"type": BASIS_LINE, "known_at": basis.known_at, "position": basis.position, "events": count}
            out.write(orjson.dumps(stamp) + b"\n")
    if app_.mapper.cipher:
        say(f"exported {count} events in clear text (the store is encrypted; the export is not)")
    else:
        say(f"exported {count} events")


@contextmanager
def private_output(file: str | None) -> Iterator[BinaryIO]:
    """stdout (no file, or '-'), or a new file readable by its owner only, written beside ``file`` and renamed
    into place only when complete (removed on failure)."""
    import os
    import tempfile

    if not file or file == "-":
        try:
            yield sys.stdout.buffer
        finally:
            sys.stdout.buffer.flush()
        return
    target = Path(file)
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as error:
        raise InvalidInput(f"cannot write {file}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
        count = rebuild_views(app_, store(ctx).views, progress=lambda done: bar.update(task, completed=done),
                              notice=say)
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


@app.command(epilog="Examples:\n\n  tracker schema\n\n  tracker schema document-signed\n\n"
             "  tracker schema --json > tracker-event.schema.json")
def schema(
    event_type: Annotated[str | None, typer.Argument(
        help="Only this event type, as 'tracker record' names it (document-signed) or as a line"
        " does (DocumentSigned).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the JSON Schema of a line of any type.")] = False,
) -> None:
    """The import format: one JSON object per line, whose ``type`` names the event. With no
    type, lists the types; with one, prints its JSON Schema."""
    from events import EVENT_TYPES
    from tracker.cli.output import Format, emit
    from tracker.cli.record import command_name
    from tracker.schemas import event_schema

    if event_type is None and not json_:
        rows = [{"type": command_name(name), "line_type": name, "about": _first_sentence(model)}
                for name, model in EVENT_TYPES.items()]
        emit(rows, ["type", "line_type", "about"], Format.table, title="Event types ('tracker schema TYPE' for one)")
        return
    if event_type is not None:
        by_command = {command_name(name): name for name in EVENT_TYPES}
        event_type = by_command.get(event_type, event_type)
    print(json.dumps(event_schema(event_type), indent=2, ensure_ascii=False))


def _first_sentence(model: Any) -> str:
    from tracker.cli.record import summary_of

    return summary_of(model).split(". ")[0].rstrip(".")
