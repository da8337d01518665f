"""Turning validation failures into one line a user can act on."""

from __future__ import annotations

from pydantic import ValidationError


def one_line(error: Exception) -> str:
    """``field.sub: message`` for the first problem of a pydantic error, else the text."""
    if isinstance(error, ValidationError):
        problems = error.errors(include_url=False)
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        text = f"{where}: {message}{more}" if where else f"{message}{more}"
        return f"{error.title}: {text}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__
