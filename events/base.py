"""Shared parts of every event: world dates with precision, sources, parties."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.json_schema import SkipJsonSchema

from events.countries import ISO_3166_ALPHA2
from events.fast_models import keep_line, kept_line, replaced, stored_reader, trusted  # noqa: F401 - were here first; still importable

_WORLD_DATE = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])(?:-(\d{2}))?|Q([1-4])))?$")


def world_period(value: str) -> tuple[date, date, str]:
    """First day, last day and precision of a world date such as 2023-Q1.

    >>> world_period("2023-Q1")
    (datetime.date(2023, 1, 1), datetime.date(2023, 3, 31), 'quarter')
    """
    match = _WORLD_DATE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a date: use YYYY-MM-DD, YYYY-MM, YYYY-Q1..Q4 or YYYY"
        )
    year, month, day, quarter = match.groups()
    y = int(year)
    if y < 1800 or y > 2200:
        raise ValueError(f"{value!r}: year out of range 1800-2200")
    if quarter:
        first_month = (int(quarter) - 1) * 3 + 1
        last_month = first_month + 2
        return (
            date(y, first_month, 1),
            date(y, last_month, calendar.monthrange(y, last_month)[1]),
            "quarter",
        )
    if month and day:
        try:
            d = date(y, int(month), int(day))
        except ValueError:
            raise ValueError(f"{value!r} is not a real calendar day") from None
        return d, d, "day"
    if month:
        m = int(month)
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]), "month"
    return date(y, 1, 1), date(y, 12, 31), "year"


# Cached by assignment, not by decorator: mutation testing skips decorated functions.
world_period = lru_cache(maxsize=65536)(world_period)


def _check_world_date(value: str) -> str:
    world_period(value)
    return value


def _check_country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _check_address(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise ValueError(f"{value!r} is not an http(s) address")
    return value


WorldDate = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=10),
    AfterValidator(_check_world_date),
    Field(
        description="When it happened in the world: YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY;"
        " the form gives the precision (day, month, quarter, year).",
        examples=["2023-05-17", "2023-05", "2023-Q1", "2023"],
    ),
]
CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=2, max_length=2),
    AfterValidator(_check_country),
    Field(description="ISO 3166-1 alpha-2 code", examples=["KZ", "CN"]),
]
Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(_check_address)
]


class Value(BaseModel):
    """A frozen value object that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Value):
    """Where a fact comes from."""

    title: Text
    publisher: Text | None = None
    published_on: WorldDate | None = None
    address: Address | None = None


class Party(Value):
    """A party to a commitment: a country and, where it matters, an institution or city."""

    country: CountryCode
    institution: Text | None = None

    def label(self) -> str:
        return party_label(self.country, self.institution)


def party_label(country: str, institution: str | None = None) -> str:
    """How a party is shown: its country, with its institution or city where it has one."""
    return f"{country} ({institution})" if institution else country


ENVELOPE = frozenset({"originator_id", "originator_version", "seal"})


class Fact(Value):
    """Base of every event: what happened, when in the world, and who says so.

    ``originator_id`` and ``originator_version`` place the event in its stream and
    ``seal`` chains it to the one before (see ``tracker verify``); the application sets
    them, users never do. ``recorded_at`` is when the tracker first
    learnt the fact; the application sets it unless a history is imported with it.
    """

    class_version: ClassVar[int] = 1
    stream_kind: ClassVar[str] = "commitment"

    originator_id: SkipJsonSchema[UUID | None] = Field(default=None, exclude=True)
    originator_version: SkipJsonSchema[int | None] = Field(default=None, exclude=True)
    seal: SkipJsonSchema[str | None] = Field(default=None, exclude=True)

    event_id: Identifier = Field(description="Unique id of this event, chosen by who records it")
    occurred_on: WorldDate
    source: Source | None = Field(
        default=None, description="Where the fact comes from; missing only by exception"
    )
    note: LongText | None = None
    recorded_at: datetime | None = Field(
        default=None, description="When the tracker learnt it (set on recording)"
    )

    def stream_key(self) -> str:
        """The stream this event belongs to, such as ``commitment:visa-exemption``."""
        raise NotImplementedError(f"{type(self).__name__} says which stream it belongs to")

    @property
    def type(self) -> str:
        return type(self).__name__

    def when(self) -> tuple[date, date, str]:
        """First day, last day and precision of ``occurred_on``."""
        return world_period(self.occurred_on)

    def summary(self) -> str:
        """One human line saying what happened."""
        return type(self).__name__

    def stamped(self, **envelope: Any) -> Any:
        """A copy placed in its stream (``originator_id``, ``originator_version``, ``seal``,
        ``recorded_at``): values of the types the fields hold, set by the tracker itself.

        What ``model_copy(update=...)`` does, without its generic copying."""
        return replaced(self, envelope)

    def remember_line(self, stored: dict[str, Any]) -> None:
        """Keep as this fact's line the stored fields it was just validated from: the values
        a dump would give back (validation is idempotent), so none is needed."""
        line = {"type": type(self).__name__, **stored}
        for key in ENVELOPE:
            line.pop(key, None)
        if "recorded_at" in line and next(reversed(line)) != "recorded_at":
            line["recorded_at"] = line.pop("recorded_at")
        keep_line(self, line)

    def to_line(self) -> dict[str, Any]:
        """The JSON Lines form: ``type`` first, then the fields that are set.

        Made once per fact (the seal, the store and the timeline all need it) and kept
        beside the fields; it is shared, so callers copy it before changing it."""
        line = kept_line(self)
        if line is None:
            line = {"type": self.type, **self.model_dump(mode="json", exclude_none=True)}
            if "recorded_at" in line:
                line["recorded_at"] = line.pop("recorded_at")
            keep_line(self, line)
        return line


def upcast(cls: type, state: dict[str, Any]) -> bool:
    """Bring fields stored at an older class version (their ``class_version``, 1 when
    absent) up to ``cls``'s own with its ``upcast_vN_vN+1`` methods; whether any ran."""
    written_at = state.pop("class_version", 1)
    current = getattr(cls, "class_version", 1)
    for version in range(written_at, current):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
    return written_at < current


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
