"""Every event type by name, and reading one JSON Lines object into its event."""

from __future__ import annotations

from typing import Any

from events.base import ENVELOPE, Fact, upcast
from events.commitments import (
    Assessed,
    CommercialContractsSigned,
    CommitmentRegistered,
    CommitmentsRelated,
    DocumentSigned,
    DomesticProcedureCompleted,
    DomesticProcedureStepTaken,
    EnteredIntoForce,
    EventCorrected,
    EventRetracted,
    Expired,
    FacilityOpened,
    ImplementationStatusChanged,
    InstrumentsRelated,
    Lapsed,
    MilestoneReached,
    ProvisionallyApplied,
    Resumed,
    SisterCityTieEstablished,
    StepExpected,
    Superseded,
    Suspended,
    TargetSet,
    Terminated,
    UniversityBranchOpened,
    VisaExemptionEnteredIntoForce,
    Withdrawn,
)
from events.indicators import TradeFigureReported
from events.meetings import DocumentsReported, MeetingHeld
from events.sources import ClaimConflicted, ClaimSettled, SourceCited

EVENT_TYPES: dict[str, type[Fact]] = {
    cls.__name__: cls
    for cls in (
        MeetingHeld,
        DocumentsReported,
        CommitmentRegistered,
        DocumentSigned,
        DomesticProcedureCompleted,
        DomesticProcedureStepTaken,
        ProvisionallyApplied,
        EnteredIntoForce,
        VisaExemptionEnteredIntoForce,
        SisterCityTieEstablished,
        UniversityBranchOpened,
        FacilityOpened,
        MilestoneReached,
        TargetSet,
        ImplementationStatusChanged,
        Suspended,
        Resumed,
        Terminated,
        Withdrawn,
        Expired,
        Superseded,
        Lapsed,
        InstrumentsRelated,
        CommitmentsRelated,
        CommercialContractsSigned,
        TradeFigureReported,
        Assessed,
        StepExpected,
        EventCorrected,
        EventRetracted,
        SourceCited,
        ClaimConflicted,
        ClaimSettled,
    )
}

# How the store names each fact's class: what a query for facts alone selects.
FACT_TOPICS = frozenset(f"{cls.__module__}:{cls.__qualname__}" for cls in EVENT_TYPES.values())


class UnknownEventType(ValueError):
    pass


def event_class(name: str) -> type[Fact]:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {name!r} (see 'tracker schema' for the list)"
        ) from None


def parse_line(data: Any) -> Fact:
    """Validate one JSON Lines object into its event; raises ValueError with a clear message."""
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    data = dict(data)
    type_name = data.pop("type", None)
    if not isinstance(type_name, str):
        raise ValueError("missing \"type\" (the event type, such as \"DocumentSigned\")")
    cls = event_class(type_name)
    bad = ENVELOPE & data.keys()
    if bad:
        raise ValueError(f"{', '.join(sorted(bad))} is set by the tracker, not by input")
    return cls.model_validate(data)


# What a line that does not say its class version was written at: the class versions of
# 0.6, the last version whose exports did not say them (hand-written lines do not either).
UNSTATED_LINE_VERSIONS = {"CommitmentRegistered": 2}


def export_line(fact: Fact) -> dict[str, Any]:
    """A fact's line in an export: its JSON Lines form, saying its class version (after
    ``type``) when above 1, so that a later tracker knows what to upcast it from."""
    line = fact.to_line()
    if fact.class_version == 1:
        return line
    return {"type": line["type"], "class_version": fact.class_version,
            **{k: v for k, v in line.items() if k != "type"}}


def read_line(data: Any) -> Fact:
    """A line of an export or a hand-written history as its event: upcast from the class
    version it says (``class_version``; when absent, UNSTATED_LINE_VERSIONS, else 1).
    Raises ValueError with a clear message."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or data["type"] not in EVENT_TYPES:
        return parse_line(data)  # which says what is wrong with it
    cls = EVENT_TYPES[data["type"]]
    data = dict(data)
    written_at = data.setdefault("class_version", UNSTATED_LINE_VERSIONS.get(cls.__name__, 1))
    if not isinstance(written_at, int) or isinstance(written_at, bool) or written_at < 1:
        raise ValueError(f"class_version {written_at!r} is not a version (a whole number from 1)")
    if written_at > cls.class_version:
        raise ValueError(f"class_version {written_at}: this tracker reads {cls.__name__} lines up to version"
                         f" {cls.class_version}; upgrade the tracker to import this line")
    upcast(cls, data)
    return parse_line(data)


def trusted_line(line: dict[str, Any]) -> Fact:
    """A fact back from the line this tracker made of it (``to_line``, validated then, at the
    current class version): built without validating again, as a stored fact is read."""
    from events.fast_models import stored_reader

    fields = dict(line)
    cls = EVENT_TYPES[fields.pop("type")]
    read = stored_reader(cls)
    fact: Fact = (read and read(fields)) or cls.model_validate(fields)
    fact.remember_line(fields)
    return fact
