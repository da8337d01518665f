"""Events in the life of a commitment: its legal track, its implementation, judgements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from events.base import (
    CountryCode,
    Fact,
    Identifier,
    LongText,
    Party,
    Text,
    Value,
    WorldDate,
)

InstrumentType = Literal[
    "agreement",
    "memorandum",
    "joint statement",
    "protocol",
    "plan",
    "programme",
    "contract",
    "treaty",
    "other",
]


class EntryIntoForceRule(Value):
    """How entry into force follows the parties' notifications."""

    days_after_last_notification: int = Field(ge=0, le=3650)


class CommitmentEvent(Fact):
    commitment_id: Identifier = Field(description="Stable id of the commitment")

    def stream_key(self) -> str:
        return f"{self.stream_kind}:{self.commitment_id}"


class CommitmentRegistered(CommitmentEvent):
    """A commitment enters the tracker: what it is, between whom, from which meeting.

    Version 2 replaced ``party_codes`` (country codes only) with ``parties``.
    """

    class_version: ClassVar[int] = 2

    kind: Text = Field(examples=["agreement", "memorandum", "joint statement"])
    title: Text
    parties: list[Party] = Field(min_length=1, max_length=50)
    meeting_id: Identifier | None = None
    sector: Text | None = None
    binding: bool = Field(description="Binding instruments need domestic procedures")
    target_on: WorldDate | None = Field(
        default=None, description="Date by which the commitment was promised"
    )
    entry_into_force: EntryIntoForceRule | None = None
    counted_in_meeting_total: bool = Field(
        default=True,
        description="Part of the documents a meeting reports as signed",
    )

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        codes = state.pop("party_codes", [])
        state["parties"] = [{"country": code} for code in codes]

    def summary(self) -> str:
        return f"registered: {self.title}"


class DocumentSigned(CommitmentEvent):
    """The instrument was signed (by whom, where)."""

    instrument: InstrumentType
    signatories: list[Party] = Field(default_factory=list, max_length=50)
    place: Text | None = None

    def summary(self) -> str:
        where = f" in {self.place}" if self.place else ""
        what = "document" if self.instrument == "other" else self.instrument
        return f"{what} signed{where}"


class DomesticProcedureCompleted(CommitmentEvent):
    """A party completed a domestic procedure: ratification, approval, decree or notification."""

    party: CountryCode
    procedure: Literal["ratification", "approval", "decree", "notification"]

    def summary(self) -> str:
        return f"{self.party}: {self.procedure} completed"


class ProvisionallyApplied(CommitmentEvent):
    """The instrument is applied provisionally, before entry into force."""

    def summary(self) -> str:
        return "provisionally applied"


class EnteredIntoForce(CommitmentEvent):
    """The instrument entered into force."""

    def summary(self) -> str:
        return "entered into force"


class VisaExemptionEnteredIntoForce(CommitmentEvent):
    """A visa exemption entered into force, with its length of stay."""

    stay_days: int = Field(gt=0, le=3650, description="Days of stay without a visa")
    max_days_per_period: int | None = Field(default=None, gt=0, le=3650)
    period_days: int | None = Field(default=None, gt=0, le=3650)

    def summary(self) -> str:
        return f"visa exemption in force ({self.stay_days}-day stays)"


class SisterCityTieEstablished(CommitmentEvent):
    """Two cities established a sister-city tie."""

    cities: list[Party] = Field(min_length=2, max_length=2)

    def summary(self) -> str:
        return "sister cities: " + " and ".join(c.label() for c in self.cities)


class UniversityBranchOpened(CommitmentEvent):
    """A university opened a branch in a city."""

    university: Text
    city: Text

    def summary(self) -> str:
        return f"branch of {self.university} opened in {self.city}"


class MilestoneReached(CommitmentEvent):
    """A step of implementation was reached."""

    milestone: Text

    def summary(self) -> str:
        return f"milestone: {self.milestone}"


ImplementationStatus = Literal[
    "announced", "committed", "in implementation", "completed", "cancelled"
]


class ImplementationStatusChanged(CommitmentEvent):
    """Implementation moved to a new status."""

    status: ImplementationStatus

    def summary(self) -> str:
        return f"implementation: {self.status}"


Track = Literal["legal", "implementation"]


class Suspended(CommitmentEvent):
    """The legal or implementation track was suspended."""

    track: Track

    def summary(self) -> str:
        return f"{self.track} track suspended"


class Resumed(CommitmentEvent):
    """A suspended track resumed."""

    track: Track

    def summary(self) -> str:
        return f"{self.track} track resumed"


class Terminated(CommitmentEvent):
    """The instrument was terminated (final)."""

    def summary(self) -> str:
        return "terminated"


class Withdrawn(CommitmentEvent):
    """A party withdrew (final)."""

    party: CountryCode

    def summary(self) -> str:
        return f"{self.party} withdrew"


class Expired(CommitmentEvent):
    """The instrument expired (final)."""

    def summary(self) -> str:
        return "expired"


class Superseded(CommitmentEvent):
    """The instrument was superseded by another (final)."""

    superseded_by: Identifier | None = None

    def summary(self) -> str:
        by = f" by {self.superseded_by}" if self.superseded_by else ""
        return f"superseded{by}"


class Lapsed(CommitmentEvent):
    """The instrument lapsed without entering into force (final)."""

    def summary(self) -> str:
        return "lapsed without entering into force"


class CommercialContractsSigned(CommitmentEvent):
    """Commercial contracts were signed, with their value."""

    value: Decimal = Field(gt=0, max_digits=20, decimal_places=2)
    currency: Literal["USD", "CNY", "KZT", "EUR", "RUB"] = "USD"
    approximate: bool = False
    count: int | None = Field(default=None, gt=0, le=100000)

    def summary(self) -> str:
        about = "about " if self.approximate else ""
        return f"contracts signed worth {about}{self.value:,.0f} {self.currency}"


class Assessed(CommitmentEvent):
    """An analyst's dated judgement; it never changes the facts."""

    score: Literal[-1, 0, 1]
    assessor: Text | None = None
    note: LongText

    def summary(self) -> str:
        return f"assessed {self.score:+d}"


# Fields that say which fact it is and where it belongs: a correction cannot change them.
IDENTITY_FIELDS = frozenset({"event_id", "type", "commitment_id", "meeting_id", "recorded_at",
                             "originator_id", "originator_version", "reporter", "partner"})


def no_identity_changes(value: dict[str, Any]) -> dict[str, Any]:
    forbidden = sorted(set(value) & IDENTITY_FIELDS)
    if forbidden:
        raise ValueError(f"cannot change {', '.join(forbidden)}; retract instead")
    return value


class EventCorrected(Fact):
    """A wrong fact, corrected: the fields in ``changes`` replace the old values."""

    stream_kind: ClassVar[str] = "any"
    corrects: Identifier
    reason: LongText
    changes: dict[str, Any] = Field(min_length=1, max_length=40)

    @field_validator("changes")
    @classmethod
    def _no_identity_changes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return no_identity_changes(value)

    def stream_key(self) -> str:
        raise LookupError("a correction belongs to the stream of the event it corrects")

    def summary(self) -> str:
        return f"corrects {self.corrects}: {', '.join(sorted(self.changes))}"


class EventRetracted(Fact):
    """A fact withdrawn as wrong; the history keeps both."""

    stream_kind: ClassVar[str] = "any"
    retracts: Identifier
    reason: LongText

    def stream_key(self) -> str:
        raise LookupError("a retraction belongs to the stream of the event it retracts")

    def summary(self) -> str:
        return f"retracts {self.retracts}"


