"""Shared parts of every event: world dates with precision, sources, parties."""

from __future__ import annotations

import calendar
import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache, lru_cache
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

from events.countries import ISO_3166_ALPHA2

_WORLD_DATE = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])(?:-(\d{2}))?|Q([1-4])))?$")


@lru_cache(maxsize=65536)
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
        return f"{self.stream_kind}:{getattr(self, 'commitment_id')}"

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

        What ``model_copy(update=...)`` does, without its generic copying (10x slower)."""
        fields = {k: v for k, v in self.__dict__.items() if k != _LINE}
        return trusted(type(self), {**fields, **envelope}, self.__pydantic_fields_set__ | envelope.keys())

    def remember_line(self, stored: dict[str, Any]) -> None:
        """Keep as this fact's line the stored fields it was just validated from: the values
        a dump would give back (validation is idempotent), so none is needed."""
        line = {"type": type(self).__name__, **stored}
        for key in ENVELOPE:
            line.pop(key, None)
        if "recorded_at" in line and next(reversed(line)) != "recorded_at":
            line["recorded_at"] = line.pop("recorded_at")
        self.__dict__[_LINE] = line

    def to_line(self) -> dict[str, Any]:
        """The JSON Lines form: ``type`` first, then the fields that are set.

        Made once per fact (the seal, the store and the timeline all need it) and kept
        beside the fields; it is shared, so callers copy it before changing it."""
        line = self.__dict__.get(_LINE)
        if line is None:
            line = {"type": self.type, **self.model_dump(mode="json", exclude_none=True)}
            if "recorded_at" in line:
                line["recorded_at"] = line.pop("recorded_at")
            self.__dict__[_LINE] = line  # not a field: pydantic's equality and dumps skip it
        return line


_set = object.__setattr__
_LINE = "_line"


def trusted(cls: type[BaseModel], values: dict[str, Any], fields_set: set[str] | None = None) -> Any:
    """A model from values the tracker made itself, every field given with its own type:
    what ``model_construct`` does without its per-field Python loop."""
    made = object.__new__(cls)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


# Field types whose JSON value is already the value the model holds.
_AS_IS = (str, int, bool, float, UUID, dict, Any)


def _decimal(value: Any) -> Decimal:
    return Decimal(value if isinstance(value, str) else str(value))


def _converter(annotation: Any) -> Callable[[Any], Any] | None | bool:
    """How a field's stored JSON value becomes its value: ``True`` as it is, a function,
    or ``None`` for a type this reader does not know (the model is then validated)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _converter(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter(kinds[0]) if len(kinds) == 1 else None
    if origin is Literal:
        return True
    if origin is dict or annotation in _AS_IS:
        return True
    if origin is list:
        item = _converter(typing.get_args(annotation)[0])
        if item is True:
            return True
        if item is None:
            return None

        def each(values: list[Any]) -> list[Any] | None:
            made = [item(v) for v in values]
            return None if None in made else made

        return each
    if annotation is datetime:
        return datetime.fromisoformat
    if annotation is Decimal:
        return _decimal
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        read = stored_reader(annotation)
        return None if read is None else _shared(read) if annotation.model_config.get("frozen") else read
    return None


def _shared(read: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``read``, giving the same frozen value for the same fields: many facts cite one source."""
    made: dict[tuple[Any, ...], Any] = {}

    def read_shared(stored: dict[str, Any]) -> Any:
        try:
            key = tuple(stored.items())
            value = made.get(key)
        except TypeError:  # a list among the values
            return read(stored)
        if value is None:
            if len(made) >= 4096:
                made.clear()
            value = made[key] = read(stored)
        return value

    return read_shared


@cache
def stored_reader(cls: type[BaseModel]) -> Callable[[dict[str, Any]], Any] | None:
    """A function making a ``cls`` from the JSON fields it was stored with, without
    validating them again: they were validated when recorded (eventsourcing's own mapper
    trusts its stored events too). It gives ``None`` for fields it cannot take as they are
    (a key the model does not have): validate those. ``None`` here when a field's type is
    not one it knows."""
    defaults: dict[str, Any] = {}
    required = frozenset(name for name, info in cls.model_fields.items() if info.is_required())
    conversions: list[tuple[str, Callable[[Any], Any]]] = []
    for name, info in cls.model_fields.items():
        converter = _converter(info.annotation)
        # A made default (a list) taken as it is would be one object shared by every model;
        # one that is converted (a list of parties) is made anew for each.
        if converter is None or (converter is True and info.default_factory is not None):
            return None
        if converter is not True:
            conversions.append((name, converter))
        defaults[name] = info.get_default(call_default_factory=True)
    fields = defaults.keys()

    def read(stored: dict[str, Any]) -> Any:
        if not (fields >= stored.keys() >= required):
            return None
        values = {**defaults, **stored}
        for name, convert in conversions:
            value = values[name]
            if value is not None:
                value = values[name] = convert(value)
                if value is None:  # a nested model that must be validated
                    return None
        return trusted(cls, values, set(stored))

    return read


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
