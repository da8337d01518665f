"""Turning validation failures into one line a user can act on."""

from __future__ import annotations

from pydantic import ValidationError


def one_line(error: Exception) -> str:
    """``field.sub: message`` for the first problems of a pydantic error, else the text."""
    if isinstance(error, ValidationError):
        problems = _one_branch(error.errors(include_url=False))
        # a misspelt field shows as two problems (the field missing, the misspelling unknown):
        # naming both says what to fix
        shown = "; ".join(_problem(p) for p in problems[:SHOWN_PROBLEMS])
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        return f"{error.title}: {shown}{more}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


SHOWN_PROBLEMS = 3


def _problem(problem: dict) -> str:  # noqa: ANN001 - pydantic's ErrorDetails
    where = ".".join(str(part) for part in problem["loc"] if not _branch(part))
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{where}: {message}" if where else message


def _branch(part: object) -> bool:
    """Whether a location part names a branch of a union (``Source`` or ``list[Source]``)."""
    return isinstance(part, str) and (part[:1].isupper() or part.startswith("list["))


def _one_branch(problems: list) -> list:  # noqa: ANN001 - pydantic's ErrorDetails
    """The problems of the union branch the input chose: a fact's ``source`` is one object or
    a list, and the branch that expected the other form only says the form is wrong."""
    kept = [p for p in problems
            if not (p["loc"] and _branch(p["loc"][-1]) and p["type"] in ("model_type", "list_type"))]
    return kept or problems
