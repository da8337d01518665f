"""The event vocabulary of the tracker: one frozen pydantic model per event type; and,
beside it, the domain's grammar: the rules that fold a commitment's facts into its status
(``events.rules``), the aggregates that check each new fact (``events.aggregates``) and the
named errors (``events.errors``).

Names are imported from their modules when first asked for: a submodule such as
``events.rules_version`` or ``events.errors`` can be imported without loading pydantic and
every model (0.2 s), which the read path never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "ANNOTATIONS": "events.sources",
    "Assessed": "events.commitments",
    "ClaimConflicted": "events.sources",
    "ClaimSettled": "events.sources",
    "CommercialContractsSigned": "events.commitments",
    "CommitmentEvent": "events.commitments",
    "CommitmentRegistered": "events.commitments",
    "CommitmentsRelated": "events.commitments",
    "DocumentSigned": "events.commitments",
    "DocumentsReported": "events.meetings",
    "DomesticProcedureCompleted": "events.commitments",
    "DomesticProcedureStepTaken": "events.commitments",
    "EVENT_TYPES": "events.vocabulary",
    "EnteredIntoForce": "events.commitments",
    "EntryIntoForceRule": "events.commitments",
    "EventCorrected": "events.commitments",
    "EventRetracted": "events.commitments",
    "Expired": "events.commitments",
    "FacilityOpened": "events.commitments",
    "FACT_TOPICS": "events.vocabulary",
    "Fact": "events.base",
    "ImplementationStatusChanged": "events.commitments",
    "InstrumentsRelated": "events.commitments",
    "Lapsed": "events.commitments",
    "MeetingEvent": "events.meetings",
    "MeetingHeld": "events.meetings",
    "MilestoneReached": "events.commitments",
    "Money": "events.commitments",
    "Party": "events.base",
    "ProvisionallyApplied": "events.commitments",
    "Resumed": "events.commitments",
    "SisterCityTieEstablished": "events.commitments",
    "Source": "events.base",
    "StepExpected": "events.commitments",
    "SourceCited": "events.sources",
    "Superseded": "events.commitments",
    "Suspended": "events.commitments",
    "TargetSet": "events.commitments",
    "Terminated": "events.commitments",
    "TradeFigureReported": "events.indicators",
    "UniversityBranchOpened": "events.commitments",
    "TARGET_FIELDS": "events.sources",
    "UnknownEventType": "events.vocabulary",
    "VisaExemptionEnteredIntoForce": "events.commitments",
    "Withdrawn": "events.commitments",
    "event_class": "events.vocabulary",
    "parse_line": "events.vocabulary",
    "target_of": "events.sources",
    "world_period": "events.base",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'events' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(_HOMES)


if TYPE_CHECKING:
    from events.base import (
        Fact,
        Party,
        Source,
        world_period,
    )
    from events.commitments import (
        Assessed,
        CommercialContractsSigned,
        CommitmentEvent,
        CommitmentRegistered,
        CommitmentsRelated,
        DocumentSigned,
        DomesticProcedureCompleted,
        DomesticProcedureStepTaken,
        EnteredIntoForce,
        EntryIntoForceRule,
        EventCorrected,
        EventRetracted,
        Expired,
        FacilityOpened,
        ImplementationStatusChanged,
        InstrumentsRelated,
        Lapsed,
        MilestoneReached,
        Money,
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
    from events.indicators import (
        TradeFigureReported,
    )
    from events.meetings import (
        DocumentsReported,
        MeetingEvent,
        MeetingHeld,
    )
    from events.sources import (
        ANNOTATIONS,
        TARGET_FIELDS,
        ClaimConflicted,
        ClaimSettled,
        SourceCited,
        target_of,
    )
    from events.vocabulary import (
        EVENT_TYPES,
        FACT_TOPICS,
        UnknownEventType,
        event_class,
        parse_line,
    )

__all__ = [
    "ANNOTATIONS",
    "Assessed",
    "ClaimConflicted",
    "ClaimSettled",
    "CommercialContractsSigned",
    "CommitmentEvent",
    "CommitmentRegistered",
    "CommitmentsRelated",
    "DocumentSigned",
    "DocumentsReported",
    "DomesticProcedureCompleted",
    "DomesticProcedureStepTaken",
    "EVENT_TYPES",
    "EnteredIntoForce",
    "EntryIntoForceRule",
    "EventCorrected",
    "EventRetracted",
    "Expired",
    "FACT_TOPICS",
    "FacilityOpened",
    "Fact",
    "ImplementationStatusChanged",
    "InstrumentsRelated",
    "Lapsed",
    "MeetingEvent",
    "MeetingHeld",
    "MilestoneReached",
    "Money",
    "Party",
    "ProvisionallyApplied",
    "Resumed",
    "SisterCityTieEstablished",
    "Source",
    "StepExpected",
    "SourceCited",
    "Superseded",
    "Suspended",
    "TargetSet",
    "Terminated",
    "TARGET_FIELDS",
    "TradeFigureReported",
    "UniversityBranchOpened",
    "UnknownEventType",
    "VisaExemptionEnteredIntoForce",
    "Withdrawn",
    "event_class",
    "parse_line",
    "target_of",
    "world_period",
]
