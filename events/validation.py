"""Turning validation failures into one line a user can act on."""

from __future__ import annotations

from pydantic import ValidationError


def one_line(error: Exception) -> str:
    """``field.sub: message`` for the first problem of a pydantic error, else the text."""
    if isinstance(error, ValidationError):
        problems = _one_branch(error.errors(include_url=False))
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"] if not _branch(part))
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        text = f"{where}: {message}{more}" if where else f"{message}{more}"
        return f"{error.title}: {text}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _branch(part: object) -> bool:
    """Whether a location part names a branch of a union (``Source`` or ``list[Source]``)."""
    return isinstance(part, str) and (part[:1].isupper() or part.startswith("list["))


def _one_branch(problems: list) -> list:  # noqa: ANN001 - pydantic's ErrorDetails
    """The problems of the union branch the input chose: a fact's ``source`` is one object or
    a list, and the branch that expected the other form only says the form is wrong."""
    kept = [p for p in problems
            if not (p["loc"] and _branch(p["loc"][-1]) and p["type"] in ("model_type", "list_type"))]
    return kept or problems
