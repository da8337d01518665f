"""Shared parts of every event: world dates with precision, sources, parties."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import to_jsonable_python

from events.countries import ISO_3166_ALPHA2
from events.fast_models import keep_line, kept_line, replaced, stored_reader, trusted  # noqa: F401 - were here first; still importable

# One world date in its plain form: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-Qn; EDTF's
# unspecified digits for the whole date (XXXX), the month (YYYY-XX) or the day (YYYY-MM-XX);
# then EDTF's qualifiers: ~ approximate, ? uncertain, % both.
_POINT = re.compile(
    r"^(?:(XXXX)|(\d{4})(?:-(?:(0[1-9]|1[0-2]|XX)(?:-(\d{2}|XX))?|Q([1-4])))?)([~?%]?)$"
)
EARLIEST, LATEST = date(1800, 1, 1), date(2200, 12, 31)  # the years a world date may name
OPEN = ".."  # an open bound of a range: "../2024-03-01" (on or before), "2024-03-01/.." (on or after)
QUALIFIERS = {"~": "approximate", "?": "uncertain", "%": "uncertain, approximate"}
FORMS = ("YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO (2023-06-12/2023-06-14);"
         " an open bound ../TO (on or before) or FROM/.. (on or after); XXXX, YYYY-XX or"
         " YYYY-MM-XX (unknown); ~ (approximate), ? (uncertain) or % (both) after a date")


def _not_a_date(value: str, why: str = "") -> ValueError:
    return ValueError(f"{value!r} is not a world date{why}: use {FORMS}")


def _point(value: str, whole: str) -> tuple[date, date, str]:
    """First day, last day and precision of one date of a range (or of the whole date)."""
    match = _POINT.match(value)
    if not match:
        raise _not_a_date(whole)
    unknown, year, month, day, quarter, qualifier = match.groups()
    if unknown:
        first, last, precision = EARLIEST, LATEST, "unknown"
    else:
        y = int(year)
        if y < EARLIEST.year or y > LATEST.year:
            raise ValueError(f"{whole!r}: year out of range {EARLIEST.year}-{LATEST.year}")
        if quarter:
            first_month = (int(quarter) - 1) * 3 + 1
            last_month = first_month + 2
            first = date(y, first_month, 1)
            last = date(y, last_month, calendar.monthrange(y, last_month)[1])
            precision = "quarter"
        elif month == "XX":
            if day and day != "XX":
                raise _not_a_date(whole, " (a day in an unknown month)")
            first, last, precision = date(y, 1, 1), date(y, 12, 31), "year"
        elif month and day and day != "XX":
            try:
                first = last = date(y, int(month), int(day))
            except ValueError:
                raise ValueError(f"{whole!r} is not a real calendar day") from None
            precision = "day"
        elif month:
            m = int(month)
            first, last, precision = date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]), "month"
        else:
            first, last, precision = date(y, 1, 1), date(y, 12, 31), "year"
    if qualifier:
        precision = f"{precision}, {QUALIFIERS[qualifier]}"
    return first, last, precision


def world_period(value: str) -> tuple[date, date, str]:
    """First day, last day and precision of a world date, in the spirit of ISO 8601-2 (EDTF).

    The precision is day, month, quarter or year; range (FROM/TO), before (../TO), after
    (FROM/..) or unknown (XXXX, whose period is every day a world date may name); followed
    by ", approximate", ", uncertain" or ", uncertain, approximate" for a qualified date
    (its period stays the one it names). An open bound reaches the first or last day a world
    date may name (``EARLIEST``, ``LATEST``).

    >>> world_period("2023-Q1")
    (datetime.date(2023, 1, 1), datetime.date(2023, 3, 31), 'quarter')
    >>> world_period("../2024-03-01")
    (datetime.date(1800, 1, 1), datetime.date(2024, 3, 1), 'before')
    """
    if "/" not in value:
        return _point(value, value)
    start, _, end = value.partition("/")
    if start == OPEN and end == OPEN or "/" in end:
        raise _not_a_date(value)
    if start == OPEN:
        return EARLIEST, _point(end, value)[1], "before"
    if end == OPEN:
        return _point(start, value)[0], LATEST, "after"
    first, last = _point(start, value)[0], _point(end, value)[1]
    if last < first:
        raise _not_a_date(value, " (the range ends before it starts)")
    return first, last, "range"


def world_place(value: str) -> str | None:
    """The day (ISO) a fact of this world date takes in world order: the first day of its
    period, but the last for an open start ("../2024-03-01": no earlier than known); None
    for an unknown date (XXXX), which ``events.rules`` places by the legal process."""
    first, last, precision = world_period(value)
    if precision.startswith("unknown"):
        return None
    return (last if precision == "before" else first).isoformat()


# Cached by assignment, not by decorator: mutation testing skips decorated functions.
world_period = lru_cache(maxsize=65536)(world_period)
world_place = lru_cache(maxsize=65536)(world_place)


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
    StringConstraints(strip_whitespace=True, max_length=40),
    AfterValidator(_check_world_date),
    Field(
        description="When it happened in the world, no more precisely than known (ISO 8601-2 /"
        " EDTF forms): YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO; an open bound"
        " ../TO (on or before) or FROM/.. (on or after); XXXX (unknown), YYYY-XX (unknown month)"
        " or YYYY-MM-XX (unknown day); a trailing ~ (approximate), ? (uncertain) or % (both)."
        " The form gives the precision.",
        examples=["2023-05-17", "2023-05", "2023-Q1", "2023", "2023-06-12/2023-06-14",
                  "2023-06/2023-08", "../2024-03-01", "2024-03-01/..", "XXXX", "2024-XX",
                  "2023-06~", "2023-06?"],
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


SourceKind = Literal["government", "legislature", "gazette", "depositary", "news agency", "other"]
# Kinds of source that speak for a state or a treaty's depositary.
OFFICIAL_KINDS = frozenset({"government", "legislature", "gazette", "depositary"})


class Source(Value):
    """Where a fact comes from."""

    title: Text
    publisher: Text | None = None
    published_on: WorldDate | None = None
    address: Address | None = None
    kind: SourceKind | None = Field(
        default=None,
        description="What kind of source: government, legislature, gazette and depositary are"
        " official; news agency; other",
    )

    @property
    def official(self) -> bool:
        return self.kind in OFFICIAL_KINDS

    def label(self) -> str:
        """How a source is shown in one line: its title, publisher and kind."""
        publisher = f", {self.publisher}" if self.publisher else ""
        kind = f" [{self.kind}]" if self.kind else ""
        return f"{self.title}{publisher}{kind}"


# Several sources of one fact: at least one.
SourceList = Annotated[list[Source], Field(min_length=1, max_length=50)]


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
    source: Source | SourceList | None = Field(
        default=None,
        description="Where the fact comes from: one source, or a list of the sources that report"
        " it; missing only by exception",
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

    @property
    def sources(self) -> list[Source]:
        """Every source the fact itself gives (none, one or several)."""
        source = self.source
        if source is None:
            return []
        return list(source) if isinstance(source, list) else [source]

    def when(self) -> tuple[date, date, str]:
        """First day, last day and precision of ``occurred_on``."""
        return world_period(self.occurred_on)

    def summary(self) -> str:
        """One human line saying what happened."""
        return type(self).__name__

    def stamped(self, **envelope: Any) -> Any:
        """A copy placed in its stream (``originator_id``, ``originator_version``, ``seal``,
        ``recorded_at``): values of the types the fields hold, set by the tracker itself.

        What ``model_copy(update=...)`` does, without its generic copying. The line already
        made is kept: the envelope is not in it, and ``recorded_at`` goes last, as in ``to_line``."""
        made = replaced(self, envelope)
        line = kept_line(self)
        at = envelope.get("recorded_at", self.recorded_at)
        if line is not None and at == self.recorded_at:
            keep_line(made, line)
        elif line is not None and self.recorded_at is None:
            keep_line(made, {**line, "recorded_at": to_jsonable_python(at)})
        return made

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
