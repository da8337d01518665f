"""JSON Schema of the import/export format, from the event models themselves."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from events import EVENT_TYPES, event_class
from events.errors import InvalidInput


def event_schema(event_type: str | None = None) -> dict[str, Any]:
    """One schema for a line of any event type, or for one type."""
    if event_type is not None:
        try:
            classes = [event_class(event_type)]
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    else:
        classes = list(EVENT_TYPES.values())
    _, top = models_json_schema([(cls, "validation") for cls in classes], ref_template="#/$defs/{model}")
    defs = top.get("$defs", {})
    for cls in classes:
        model = defs[cls.__name__]
        model["properties"] = {"type": {"const": cls.__name__}, **model["properties"]}
        model["required"] = ["type", *model.get("required", [])]
        model["additionalProperties"] = False
        if getattr(cls, "class_version", 1) > 1:
            model["x-class-version"] = cls.class_version
    if event_type is not None:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **defs.pop(event_type)}
        if defs:
            schema["$defs"] = defs
        return schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tracker event (one line of a JSON Lines history)",
        "oneOf": [{"$ref": f"#/$defs/{cls.__name__}"} for cls in classes],
        "$defs": defs,
    }
