"""One way to print any listing: a rich table (default), --json, --nl, --csv or --tsv. Data on stdout.

Every listing command takes its format options from ``output_options`` and prints with
``emit``."""

from __future__ import annotations

import csv
import functools
import inspect
import io
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any, Sequence

import typer

# Joiners shape the letters of some scripts (Persian, Indic, emoji): not escaped.
_JOINERS = frozenset("\u200c\u200d")


def printable(text: str) -> str:
    """The text with its control and format characters and its line and paragraph separators
    escaped (``\\x07``, ``\\u202e``, ``\\u2028``), so that none can ring, move the cursor,
    break a row or reverse the rest of a line: a right-to-left override in a title would
    make the rest of its row read backwards."""
    if text.isprintable():
        return text
    return "".join(c if c in _JOINERS or unicodedata.category(c) not in _ESCAPED else _escaped(c) for c in text)


# Control, format, surrogate, private-use and unassigned characters, and line and paragraph separators.
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escaped(c: str) -> str:
    return f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Zl", "Zp") else repr(c)[1:-1]


class Format(str, Enum):
    table = "table"
    json = "json"
    nl = "nl"
    csv = "csv"
    tsv = "tsv"


# Each format's option, as sqlite-utils names them.
FORMAT_OPTIONS = {
    Format.json: ("--json", "Print a JSON array instead of a table."),
    Format.nl: ("--nl", "Print newline-delimited JSON: one object per line."),
    Format.csv: ("--csv", "Print CSV instead of a table."),
    Format.tsv: ("--tsv", "Print tab-separated values instead of a table."),
}


def choose(**chosen: bool) -> Format:
    """The one format asked for (``json=True``...), else a table."""
    asked = [Format(name) for name, on in chosen.items() if on]
    if len(asked) > 1:
        from events.errors import InvalidInput

        flags = [FORMAT_OPTIONS[f][0] for f in asked]
        raise InvalidInput(f"choose one of {', '.join(flags[:-1])} and {flags[-1]}")
    return asked[0] if asked else Format.table


# The options every listing command shares, last among its options.
WITH_BASIS_HELP = ("Stamp the answer with its basis (world date, recording moment, store position):"
                   " JSON becomes {\"basis\": ..., \"rows\": [...]}; a table or CSV is followed by it on stderr.")
WITH_BASIS_OPTION = inspect.Parameter("with_basis", inspect.Parameter.KEYWORD_ONLY, default=False,
                                      annotation=Annotated[bool, typer.Option("--with-basis", help=WITH_BASIS_HELP)])
OUTPUT_OPTIONS = [
    inspect.Parameter(f"{fmt.value}_", inspect.Parameter.KEYWORD_ONLY, default=False,
                      annotation=Annotated[bool, typer.Option(flag, help=helptext)])
    for fmt, (flag, helptext) in FORMAT_OPTIONS.items()
]


# What the listing being printed was computed from, noted by whatever computed it (the
# read models' position, or a replay's), and whether it was asked for (--with-basis).
_basis: dict[str, Any] = {"wanted": False, "basis": None}


def note_basis(position: int, as_of: str | None = None, today: str | None = None, known_at: str | None = None) -> None:
    """Note the basis of the answer being computed: the store's position it reflects, the
    world date asked for, the day overdue is judged on and the recording moment (now)."""
    from datetime import date, datetime, timezone

    _basis["basis"] = {"as_of": as_of, "today": today or as_of or date.today().isoformat(),
                       "known_at": known_at or datetime.now(timezone.utc).isoformat(), "position": position,
                       "since": None}


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a listing command the shared --json, --nl, --csv and --tsv options (as
    sqlite-utils' ``output_options`` decorator does for click), and --with-basis unless the
    command stamps its basis itself: typer reads them from the signature made here, and the
    command is called with the chosen ``fmt: Format`` instead."""
    signature = inspect.signature(command, eval_str=True)
    if "fmt" not in signature.parameters:
        raise TypeError(f"{command.__name__} takes no 'fmt' parameter for output_options to fill")
    kept = [p for p in signature.parameters.values() if p.name != "fmt"]
    names = [p.name for p in OUTPUT_OPTIONS]
    stamps_itself = "with_basis" in signature.parameters
    added = OUTPUT_OPTIONS if stamps_itself else [*OUTPUT_OPTIONS, WITH_BASIS_OPTION]

    @functools.wraps(command)
    def listing(*args: Any, **kwargs: Any) -> Any:
        chosen = {name.rstrip("_"): kwargs.pop(name, False) for name in names}
        if not stamps_itself:
            _basis["wanted"] = kwargs.pop("with_basis", False)
        return command(*args, fmt=choose(**chosen), **kwargs)

    listing.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    listing.__annotations__ = {p.name: p.annotation for p in listing.__signature__.parameters.values()}  # type: ignore[attr-defined]
    return listing


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _pairs(value)
    return value


def _pairs(value: dict[str, Any]) -> str:
    """A map in one cell, as a reader says it: "KZ: opened 2025-09; CN: no evidence"."""
    return "; ".join(f"{key}: {item}" for key, item in value.items())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, dict):
        return printable(_pairs(value))
    return printable(str(value))


def _only(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Sequence[dict[str, Any]]:
    """The rows with just these columns, in this order (as they are when built for them)."""
    wanted = list(columns)
    if all(list(r) == wanted for r in rows):
        return rows
    return [{c: r.get(c) for c in columns} for r in rows]


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    table_columns: Sequence[str] | None = None,
    title: str | None = None,
    highlight: str | None = None,
) -> None:
    """Print rows in the chosen format: every one of ``columns`` as JSON or CSV, the
    ``table_columns`` (default: the same) as a table titled ``title``, where ``highlight``
    names a boolean column shown in red. Stamped with the basis noted for it when
    --with-basis asked for one (see ``note_basis``)."""
    if _basis["wanted"] and _basis["basis"] is not None:
        _basis["wanted"] = False
        emit_with_basis(rows, columns, fmt, _basis["basis"], table_columns=table_columns, title=title,
                        highlight=highlight)
        return
    if fmt in (Format.json, Format.nl):
        import orjson  # json's indenting encoder is pure Python: slow on a large board

        sys.stdout.flush()
        if fmt is Format.json:
            sys.stdout.buffer.write(orjson.dumps(_only(rows, columns), option=orjson.OPT_INDENT_2) + b"\n")
        else:
            sys.stdout.buffer.writelines(orjson.dumps(r) + b"\n" for r in _only(rows, columns))
        sys.stdout.buffer.flush()
        return
    if fmt in (Format.csv, Format.tsv):
        writer = csv.writer(sys.stdout, lineterminator="\n", dialect="excel-tab" if fmt is Format.tsv else "excel")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_csv_cell(r.get(c)) for c in columns])
        return
    columns = columns if table_columns is None else table_columns
    with console_for_stdout() as console:
        _print_table(console, rows, columns, title, highlight)


@contextmanager
def console_for_stdout() -> Iterator[Any]:
    """A rich console on stdout. Not on a terminal, what it prints goes out with no trailing
    spaces (rich pads every line of a table to the console's width)."""
    from rich.console import Console

    if sys.stdout.isatty():
        yield Console()
        return
    buffer = io.StringIO()
    console = Console(width=int(os.environ.get("COLUMNS") or 160), file=buffer)
    yield console
    sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _print_table(console: Any, rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None,
                 highlight: str | None) -> None:
    from rich import box
    from rich.table import Table

    if not rows:
        console.print(f"{title + ': ' if title else ''}nothing to show")
        return
    labels = [c.replace("_", " ") for c in columns]
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", expand=False)
    for n, label in enumerate(labels):
        # The first column (an id) stays whole so it can be copied; the rest wraps.
        table.add_column(label, overflow="fold", no_wrap=n == 0)
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    for r, row in zip(rows, cells):
        table.add_row(*row, style="bold red" if highlight and r.get(highlight) else None)
    if _fit(table, console, [[label, *texts] for label, texts in zip(labels, zip(*cells))]):
        console.print(table)
    else:  # too narrow for the table without cutting words: one block per row instead
        _print_blocks(console, rows, cells, labels, title, highlight)


def _fit(table: Any, console: Any, texts: list[list[str]]) -> bool:
    """Size the table's columns so that no word is cut (rich would cut words to fit), or
    say that the console is too narrow for that. ``texts``: each column's header and cells."""
    natural = [max(len(t) for t in column) for column in texts]
    # The first column (an id) stays whole; the others may wrap between words.
    shortest = natural[:1] + [max(len(w) for t in column for w in t.split() or [""]) for column in texts[1:]]
    room = console.width - _frame_width(table)
    if sum(natural) <= room:
        return True
    if sum(shortest) > room:
        return False
    # As rich does, the widest columns give way first, down to a common width, but none
    # below its longest word; what that leaves over goes back to the widest.
    cap = max(natural)
    while sum(_capped(natural, shortest, cap)) > room:
        cap -= 1
    widths = _capped(natural, shortest, cap)
    spare = room - sum(widths)
    for n in sorted(range(1, len(widths)), key=lambda n: -natural[n]):
        if spare and widths[n] < natural[n]:
            widths[n] += 1
            spare -= 1
    for column, width in zip(table.columns, widths):
        column.width = width
    return True


def _frame_width(table: Any) -> int:
    """The characters a table takes besides its cells' text: each cell's padding, the lines
    between columns and at the edges (as rich lays out a table with ``pad_edge``)."""
    from rich.padding import Padding

    top, right, bottom, left = Padding.unpack(table.padding)
    columns = len(table.columns)
    lines = (columns - 1 + (2 if table.show_edge else 0)) if table.box else 0
    return lines + columns * (left + right)


def _capped(natural: list[int], shortest: list[int], cap: int) -> list[int]:
    return natural[:1] + [max(least, min(width, cap)) for width, least in zip(natural[1:], shortest[1:])]


def _print_blocks(console: Any, rows: Sequence[dict[str, Any]], cells: list[list[str]], labels: list[str],
                  title: str | None, highlight: str | None) -> None:
    """Each row as its first cell, then a line per other column (as psql's expanded display)."""
    from rich.padding import Padding
    from rich.table import Table

    if title:
        console.print(title, style="italic")
    for r, row in zip(rows, cells):
        console.print()
        console.print(row[0], style="bold red" if highlight and r.get(highlight) else "bold", overflow="fold")
        block = Table.grid(padding=(0, 3))
        block.add_column(no_wrap=True)
        block.add_column(overflow="fold")  # a word longer than the line is folded, not cut short
        for label, cell in zip(labels[1:], row[1:]):
            block.add_row(label, cell)
        console.print(Padding(block, (0, 0, 0, 2)))



def emit_with_basis(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format, basis: dict[str, Any],
                    **table: Any) -> None:
    """``emit``, stamped with the answer's basis: JSON becomes ``{"basis": {...}, "rows": [...]}``;
    a table or CSV, whose shape has no room for it, is followed by the basis on stderr."""
    if fmt is not Format.json:
        import json

        emit(rows, columns, fmt, **table)
        sys.stdout.flush()
        sys.stderr.write(f"basis: {json.dumps(basis, ensure_ascii=False, separators=(',', ':'))}\n")
        return
    import orjson

    sys.stdout.flush()
    sys.stdout.buffer.write(orjson.dumps({"basis": basis, "rows": _only(rows, columns)}, option=orjson.OPT_INDENT_2)
                            + b"\n")
    sys.stdout.buffer.flush()
