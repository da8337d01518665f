"""Events in the life of a commitment: its legal track, its implementation, judgements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

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


ProcedureStep = Literal[
    "government approval",
    "lower chamber approved",
    "upper chamber approved",
    "standing committee decision",
    "law signed",
    "decree",
    "published",
    "promulgated",
    "notification sent",
    "other",
]
# The steps that complete a party's domestic procedure when the instrument's rule names none.
COMPLETING_STEPS = ("law signed", "decree", "promulgated", "notification sent")


Lifecycle = Literal[
    "generic", "regime", "facility", "tie", "reciprocal", "declaration", "contract", "plan"
]
LIFECYCLE_HELP = (
    "What implemented means for it (derived from kind when absent): regime (in effect while in"
    " force), facility (opens, then operates), tie (established, then active), reciprocal (each"
    " party opens its own), declaration (no completion unless it names deliverables), contract"
    " (delivers its value), plan (meets dated targets), generic"
)


def lifecycle_of_kind(kind: str) -> str:
    """The lifecycle a kind of commitment follows when its registration names none."""
    words = kind.casefold()
    for lifecycle, hints in _KIND_HINTS:
        if any(hint in words for hint in hints):
            return lifecycle
    return "generic"


_KIND_HINTS = (
    ("declaration", ("memorandum", "joint statement", "declaration", "communiqu")),
    ("contract", ("contract",)),
    ("plan", ("plan", "programme", "program", "roadmap", "road map")),
    ("regime", ("visa", "regime")),
    ("tie", ("sister", "twin")),
    ("reciprocal", ("reciprocal",)),
    ("facility", ("branch", "campus", "facility", "centre", "center")),
)


class Money(Value):
    """An amount of money, as a source gives it."""

    amount: Decimal = Field(gt=0, max_digits=20, decimal_places=2, description="The amount")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code", examples=["USD", "CNY", "KZT"])
    approximate: bool = Field(default=False, description="The source gives it as approximate")

    def label(self) -> str:
        about = "about " if self.approximate else ""
        return f"{about}{self.amount:,.0f} {self.currency}"


def worth(value: Money | None) -> str:
    """`` worth <amount>`` to end a summary with, when the fact has a value."""
    return f" worth {value.label()}" if value is not None else ""


VALUE_HELP = "Its value in money, where the source gives one"
PARTY_HELP = "The party (ISO code) whose side this is, where it belongs to one"

# Whether an instrument of each type binds its parties, when its signing does not say.
BINDING_INSTRUMENTS = {"agreement": True, "treaty": True, "protocol": True, "memorandum": False,
                       "joint statement": False, "plan": False, "programme": False}


class EntryIntoForceRule(Value):
    """How entry into force follows the parties' domestic procedures."""

    days_after_last_notification: int | None = Field(
        default=None, ge=0, le=3650,
        description="Days after the last party completes its procedure that the instrument enters into force",
    )
    completed_by: list[ProcedureStep] | None = Field(
        default=None, min_length=1, max_length=10,
        description="The domestic procedure steps that complete a party's procedure"
        f" (default: {', '.join(COMPLETING_STEPS)})",
    )

    @model_validator(mode="after")
    def _says_something(self) -> EntryIntoForceRule:
        if self.days_after_last_notification is None and self.completed_by is None:
            raise ValueError("an entry into force rule needs days_after_last_notification or completed_by")
        return self

    def completing_steps(self) -> tuple[str, ...]:
        return tuple(self.completed_by) if self.completed_by else COMPLETING_STEPS


def instrument_field() -> Any:
    """The ``instrument_id`` of a legal fact: which of the commitment's instruments it is about."""
    return Field(default=None, description="Which instrument of the commitment it is about (absent: the only"
                 " one, or the latest signed before it; the first, when its signing names none, goes by the"
                 " commitment's id)", examples=["astana-2024-agreement"])


def on_instrument(fact: Any) -> str:
    """How a history line names the instrument a legal fact is about, when it names one."""
    return f" ({fact.instrument_id})" if fact.instrument_id else ""


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
    lifecycle: Lifecycle | None = Field(default=None, description=LIFECYCLE_HELP)
    deliverables: list[Text] | None = Field(
        default=None, max_length=50,
        description="What a declaration promises to deliver; each is met by a milestone naming it",
    )
    value: Money | None = Field(default=None, description="Its announced value, where a source gives one")

    @property
    def follows(self) -> str:
        """The lifecycle it follows: the one named, else its kind's."""
        return self.lifecycle or lifecycle_of_kind(self.kind)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        codes = state.pop("party_codes", [])
        state["parties"] = [{"country": code} for code in codes]

    def summary(self) -> str:
        return f"registered: {self.title}{worth(self.value)}"


class DocumentSigned(CommitmentEvent):
    """The instrument was signed (by whom, where)."""

    instrument: InstrumentType
    signatories: list[Party] = Field(default_factory=list, max_length=50)
    place: Text | None = None
    instrument_id: Identifier | None = instrument_field()
    binding: bool | None = Field(
        default=None,
        description="Whether this instrument binds its parties (default: the commitment's for its first"
        " instrument; for a later one, from the instrument type: agreement, treaty, protocol bind)",
    )
    entry_into_force: EntryIntoForceRule | None = Field(
        default=None, description="This instrument's own entry into force rule"
    )

    def summary(self) -> str:
        where = f" in {self.place}" if self.place else ""
        what = "document" if self.instrument == "other" else self.instrument
        named = f" ({self.instrument_id})" if self.instrument_id else ""
        return f"{what}{named} signed{where}"


class DomesticProcedureCompleted(CommitmentEvent):
    """A party completed a domestic procedure: ratification, approval, decree or notification."""

    party: CountryCode
    procedure: Literal["ratification", "approval", "decree", "notification"]
    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"{self.party}: {self.procedure} completed{on_instrument(self)}"


class DomesticProcedureStepTaken(CommitmentEvent):
    """A party took one step of its domestic procedure: a chamber's vote, the law signed, a notification.

    The instrument's entry into force rule says which steps complete the party's procedure;
    the others are progress."""

    party: CountryCode
    step: ProcedureStep = Field(description="Which step (see the instrument's rule for those that complete it)")
    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"{self.party}: {self.step}{on_instrument(self)}"


class ProvisionallyApplied(CommitmentEvent):
    """The instrument is applied provisionally, before entry into force."""

    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"provisionally applied{on_instrument(self)}"


class EnteredIntoForce(CommitmentEvent):
    """The instrument entered into force."""

    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"entered into force{on_instrument(self)}"


class VisaExemptionEnteredIntoForce(CommitmentEvent):
    """A visa exemption entered into force, with its length of stay."""

    stay_days: int = Field(gt=0, le=3650, description="Days of stay without a visa")
    max_days_per_period: int | None = Field(default=None, gt=0, le=3650)
    period_days: int | None = Field(default=None, gt=0, le=3650)
    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"visa exemption in force ({self.stay_days}-day stays){on_instrument(self)}"


class SisterCityTieEstablished(CommitmentEvent):
    """Two cities established a sister-city tie."""

    cities: list[Party] = Field(min_length=2, max_length=2)

    def summary(self) -> str:
        return "sister cities: " + " and ".join(c.label() for c in self.cities)


class UniversityBranchOpened(CommitmentEvent):
    """A university opened a branch in a city."""

    university: Text
    city: Text
    party: CountryCode | None = Field(default=None, description=PARTY_HELP)
    value: Money | None = Field(default=None, description=VALUE_HELP)

    def summary(self) -> str:
        return f"{_side(self.party)}branch of {self.university} opened in {self.city}{worth(self.value)}"


class FacilityOpened(CommitmentEvent):
    """A facility opened: a cultural centre, an office, a plant, a school."""

    facility: Text = Field(description="What opened", examples=["Kazakh cultural centre"])
    city: Text | None = Field(default=None, description="The city where it opened")
    party: CountryCode | None = Field(default=None, description=PARTY_HELP)
    value: Money | None = Field(default=None, description=VALUE_HELP)

    def summary(self) -> str:
        where = f" in {self.city}" if self.city else ""
        return f"{_side(self.party)}{self.facility} opened{where}{worth(self.value)}"


class MilestoneReached(CommitmentEvent):
    """A step of implementation was reached."""

    milestone: Text
    party: CountryCode | None = Field(default=None, description=PARTY_HELP)
    meets: Text | None = Field(
        default=None, description="The deliverable or plan target it meets, word for word"
    )
    value: Money | None = Field(default=None, description=VALUE_HELP + " (a contract's delivery counts towards it)")

    def summary(self) -> str:
        met = f" (meets: {self.meets})" if self.meets else ""
        return f"{_side(self.party)}milestone: {self.milestone}{worth(self.value)}{met}"


class TargetSet(CommitmentEvent):
    """A plan set a dated target; a milestone that ``meets`` it meets it."""

    target: Text = Field(description="The target, in a few words", examples=["10 million tonnes of transit"])
    due_on: WorldDate = Field(description="When it is due")
    value: Money | None = Field(default=None, description=VALUE_HELP)

    def summary(self) -> str:
        return f"target set: {self.target}{worth(self.value)} by {self.due_on}"


def _side(party: str | None) -> str:
    return f"{party}: " if party else ""


ImplementationStatus = Literal[
    "announced", "committed", "in implementation", "completed", "cancelled"
]


class ImplementationStatusChanged(CommitmentEvent):
    """Implementation moved to a new status."""

    status: ImplementationStatus
    party: CountryCode | None = Field(default=None, description=PARTY_HELP)
    value: Money | None = Field(default=None, description=VALUE_HELP)

    def summary(self) -> str:
        return f"{_side(self.party)}implementation: {self.status}{worth(self.value)}"


Track = Literal["legal", "implementation"]


class TrackEvent(CommitmentEvent):
    track: Track
    instrument_id: Identifier | None = instrument_field()

    @model_validator(mode="after")
    def _instrument_on_the_legal_track(self) -> TrackEvent:
        if self.instrument_id is not None and self.track != "legal":
            raise ValueError("instrument_id names an instrument's legal track: use it with track legal")
        return self


class Suspended(TrackEvent):
    """The legal or implementation track was suspended."""

    def summary(self) -> str:
        return f"{self.track} track suspended{on_instrument(self)}"


class Resumed(TrackEvent):
    """A suspended track resumed."""

    def summary(self) -> str:
        return f"{self.track} track resumed{on_instrument(self)}"


class Terminated(CommitmentEvent):
    """The instrument was terminated (final)."""

    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"terminated{on_instrument(self)}"


class Withdrawn(CommitmentEvent):
    """A party withdrew (final)."""

    party: CountryCode
    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"{self.party} withdrew{on_instrument(self)}"


class Expired(CommitmentEvent):
    """The instrument expired (final)."""

    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"expired{on_instrument(self)}"


class Superseded(CommitmentEvent):
    """The instrument was superseded by another (final)."""

    superseded_by: Identifier | None = None
    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        by = f" by {self.superseded_by}" if self.superseded_by else ""
        return f"superseded{by}{on_instrument(self)}"


class Lapsed(CommitmentEvent):
    """The instrument lapsed without entering into force (final)."""

    instrument_id: Identifier | None = instrument_field()

    def summary(self) -> str:
        return f"lapsed without entering into force{on_instrument(self)}"


InstrumentRelation = Literal["follows up", "implements", "amends", "supersedes", "terminates"]


class InstrumentsRelated(CommitmentEvent):
    """One of the commitment's instruments follows up, implements, amends, supersedes or terminates
    another (superseding or terminating ends the other instrument, not the commitment)."""

    instrument_id: Identifier = Field(description="The instrument that relates to the other (see its DocumentSigned)")
    relation: InstrumentRelation = Field(description="How it relates to the other instrument")
    other_instrument_id: Identifier = Field(description="The instrument it follows up, implements, amends,"
                                            " supersedes or terminates")

    def summary(self) -> str:
        return f"{self.instrument_id} {self.relation} {self.other_instrument_id}"


class CommitmentsRelated(CommitmentEvent):
    """This commitment implements, or is related to, another one (which may not be recorded yet)."""

    relation: Literal["implements", "related to"] = Field(description="How it relates to the other commitment")
    other_commitment_id: Identifier = Field(description="The other commitment's id (it need not be recorded yet)")

    def summary(self) -> str:
        return f"{self.relation} commitment {self.other_commitment_id}"


class CommercialContractsSigned(CommitmentEvent):
    """Commercial contracts were signed, with their value."""

    value: Decimal = Field(gt=0, max_digits=20, decimal_places=2)
    currency: Literal["USD", "CNY", "KZT", "EUR", "RUB"] = "USD"
    approximate: bool = False
    count: int | None = Field(default=None, gt=0, le=100000)

    def summary(self) -> str:
        about = "about " if self.approximate else ""
        return f"contracts signed worth {about}{self.value:,.0f} {self.currency}"

    @property
    def money(self) -> Money:
        return Money(amount=self.value, currency=self.currency, approximate=self.approximate)


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


ExpectedStep = Literal[
    "signing",
    "domestic procedures",
    "provisional application",
    "entry into force",
    "opening",
    "implementation",
    "completion",
    "resumption",
]


class StepExpected(CommitmentEvent):
    """A step announced for a date to come, such as "entry into force announced for 2025-07",
    dated (``occurred_on``) when it was announced. Its date shows as the next step's due
    date until the step happens, and is overdue once it passes unconfirmed. A fact dated
    after the moment it is recorded can only be recorded this way."""

    step: ExpectedStep = Field(description="The step announced")
    expected_on: WorldDate = Field(description="When the step is expected to happen in the world")

    def summary(self) -> str:
        return f"{self.step} expected on {self.expected_on}"


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


