"""Every event type by name, and reading one JSON Lines object into its event."""

from __future__ import annotations

from typing import Any

from events.base import ENVELOPE, Fact
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
