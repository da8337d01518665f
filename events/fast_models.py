"""Pydantic models made without validation, for values the tracker made or stored itself.

The one place that reaches into pydantic's internals (tests/test_library_internals.py fails,
naming what changed, when a pydantic upgrade breaks what this relies on). It relies on
pydantic 2's BaseModel:

- keeping an instance's state in four slots, ``__dict__`` (the field values),
  ``__pydantic_fields_set__``, ``__pydantic_extra__`` and ``__pydantic_private__``, which is
  all that ``model_construct`` sets: ``trusted`` sets them directly, skipping its per-field
  Python loop;
- comparing and dumping models by their fields only, so that a key of ``__dict__`` that is
  not a field (a fact's JSON line, kept once made) changes neither ``==`` nor a dump.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel

_set = object.__setattr__
_LINE = "_line"  # where a model's JSON line is kept: in __dict__, not a field


def trusted(cls: type[BaseModel], values: dict[str, Any], fields_set: set[str] | None = None) -> Any:
    """A model from values the tracker made itself, every field given with its own type:
    what ``model_construct`` does without its per-field Python loop."""
    made = object.__new__(cls)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


def replaced(model: BaseModel, changes: dict[str, Any]) -> Any:
    """A copy of ``model`` with these fields set to values of their own types: what
    ``model_copy(update=...)`` does, without its generic copying. The kept line is not
    copied (it no longer describes the copy)."""
    fields = {k: v for k, v in model.__dict__.items() if k != _LINE}
    return trusted(type(model), {**fields, **changes}, model.__pydantic_fields_set__ | changes.keys())


def kept_line(model: BaseModel) -> dict[str, Any] | None:
    """The JSON line kept beside the model's fields, if one was."""
    return model.__dict__.get(_LINE)


def keep_line(model: BaseModel, line: dict[str, Any]) -> None:
    """Keep ``line`` beside the model's fields (frozen or not): equality and dumps skip it."""
    model.__dict__[_LINE] = line


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
        if len(kinds) == 2:
            return _one_or_list(*kinds)
        return _converter(kinds[0]) if len(kinds) == 1 else None
    if origin is Literal:
        return True
    if origin is dict or annotation in _AS_IS:
        return True
    if origin is list:
        item = _converter(typing.get_args(annotation)[0])
        if item is True:
            return True
        if item is None or item is False:
            return None
        convert = item

        def each(values: list[Any]) -> list[Any] | None:
            made = [convert(v) for v in values]
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


def _one_or_list(first: Any, second: Any) -> Callable[[Any], Any] | None:
    """A reader for ``Model | list[Model]`` (a fact's one source or several), else None."""
    single, several = (first, second) if _list_of(second) is not None else (second, first)
    if _list_of(several) is not single:
        return None
    one, many = _converter(single), _converter(several)
    if not callable(one) or not callable(many):
        return None
    return lambda value: many(value) if isinstance(value, list) else one(value)


def _list_of(annotation: Any) -> Any:
    """The item type of ``list[X]`` (annotated or not), else None."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None


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
        if converter is not True and converter is not False:
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
