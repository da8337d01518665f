"""One way to print any listing: a rich table (default), --json or --csv. Data on stdout."""

from __future__ import annotations

import csv
import os
import sys
from enum import Enum
from typing import Any, Sequence


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def choose(json_: bool, csv_: bool) -> Format:
    if json_ and csv_:
        from tracker.errors import InvalidInput

        raise InvalidInput("choose one of --json and --csv")
    return Format.json if json_ else Format.csv if csv_ else Format.table


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    return str(value)


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
    title: str | None = None,
    highlight: str | None = None,
) -> None:
    """Print rows in the chosen format; ``highlight`` names a boolean column shown in red."""
    if fmt is Format.json:
        import orjson  # json's indenting encoder is pure Python: 10x slower on a large board

        sys.stdout.flush()
        sys.stdout.buffer.write(orjson.dumps(_only(rows, columns), option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_csv_cell(r.get(c)) for c in columns])
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 160)
    console = Console(width=width)
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", expand=False)
    for n, c in enumerate(columns):
        # The first column (an id) stays whole so it can be copied; the rest wraps.
        table.add_column(c.replace("_", " "), overflow="fold", no_wrap=n == 0)
    for r in rows:
        style = "bold red" if highlight and r.get(highlight) else None
        table.add_row(*(_cell(r.get(c)) for c in columns), style=style)
    if not rows:
        console.print(f"{title + ': ' if title else ''}nothing to show")
        return
    console.print(table)
