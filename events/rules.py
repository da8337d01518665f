"""Where a commitment stands: its legal and implementation tracks, folded in world order.

The rule for facts learnt out of order: every fact is placed by *when it happened*
(the first day of its ``occurred_on`` period; facts starting the same day follow the
legal process: registered, signed, procedures, provisional application, in force,
suspension, end), and the whole history must then read as a possible sequence.
Gaps are allowed — an entry into force may be recorded before anyone records the
signing — but contradictions are not: a signing dated after the entry into force,
a resumption with no suspension, anything on a track after its final state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable

from events import (
    Assessed,
    CommercialContractsSigned,
    CommitmentRegistered,
    DocumentSigned,
    DomesticProcedureCompleted,
    EnteredIntoForce,
    EventCorrected,
    EventRetracted,
    Expired,
    Fact,
    ImplementationStatusChanged,
    Lapsed,
    MilestoneReached,
    ProvisionallyApplied,
    Resumed,
    SisterCityTieEstablished,
    Superseded,
    Suspended,
    Terminated,
    UniversityBranchOpened,
    VisaExemptionEnteredIntoForce,
    Withdrawn,
    world_period,
)
from events.errors import ImpossibleTransition, InvalidInput, UnknownEvent

# A change to these rules that changes a folded status raises events.rules_version.RULES_VERSION.

NOT_SIGNED = "not signed"
SIGNED = "signed"
DOMESTIC = "domestic procedures"
PROVISIONAL = "provisionally applied"
IN_FORCE = "in force"
SUSPENDED = "suspended"
LEGAL_FINAL = {"terminated", "withdrawn", "expired", "superseded", "lapsed"}

NO_EVIDENCE = "no evidence"
COMPLETED = "completed"
IMPLEMENTATION_ORDER = [NO_EVIDENCE, "announced", "committed", "in implementation", COMPLETED]
CANCELLED = "cancelled"

_BEFORE_FORCE = {NOT_SIGNED, SIGNED, DOMESTIC, PROVISIONAL}
_ENDABLE = {NOT_SIGNED, SIGNED, DOMESTIC, PROVISIONAL, IN_FORCE, SUSPENDED}

# Where each legal event may come from; "not signed" is allowed where a gap in what we
# know is plausible (the signing not recorded yet).
LEGAL_FROM: dict[type, set[str]] = {
    DocumentSigned: {NOT_SIGNED},
    DomesticProcedureCompleted: _BEFORE_FORCE,
    ProvisionallyApplied: {NOT_SIGNED, SIGNED, DOMESTIC},
    EnteredIntoForce: _BEFORE_FORCE,
    VisaExemptionEnteredIntoForce: _BEFORE_FORCE,
    Terminated: _ENDABLE,
    Withdrawn: _ENDABLE,
    Expired: _ENDABLE,
    Superseded: _ENDABLE,
    Lapsed: {NOT_SIGNED, SIGNED, DOMESTIC},
}
LEGAL_TARGET = {
    ProvisionallyApplied: PROVISIONAL,
    EnteredIntoForce: IN_FORCE,
    VisaExemptionEnteredIntoForce: IN_FORCE,
    Terminated: "terminated",
    Withdrawn: "withdrawn",
    Expired: "expired",
    Superseded: "superseded",
    Lapsed: "lapsed",
}

# Order of the legal process, to place facts that start on the same day.
RANK: dict[type, int] = {
    CommitmentRegistered: 0,
    DocumentSigned: 1,
    CommercialContractsSigned: 2,
    DomesticProcedureCompleted: 2,
    ProvisionallyApplied: 3,
    EnteredIntoForce: 4,
    VisaExemptionEnteredIntoForce: 4,
    SisterCityTieEstablished: 5,
    UniversityBranchOpened: 5,
    MilestoneReached: 5,
    ImplementationStatusChanged: 5,
    Suspended: 6,
    Resumed: 7,
    Terminated: 8,
    Withdrawn: 8,
    Expired: 8,
    Superseded: 8,
    Lapsed: 8,
    Assessed: 9,
}


def world_key(event: Fact) -> tuple[str, int, int]:
    """Sort key of world order; ISO dates sort as strings."""
    return (_start(event.occurred_on), RANK.get(type(event), 5), event.originator_version or 0)


def _start(occurred_on: str) -> str:
    return world_period(occurred_on)[0].isoformat()


# Cached by assignment, not by decorator: mutation testing skips decorated functions.
_start = lru_cache(maxsize=65536)(_start)


def effective_events(events: Iterable[Fact]) -> list[Fact]:
    """The facts as they now stand: corrections applied, retractions removed."""
    current: dict[str, Fact] = {}
    for event in events:
        if isinstance(event, EventCorrected):
            target = current.get(event.corrects)
            if target is None:
                raise UnknownEvent(f"no event {event.corrects!r} to correct here")
            current[event.corrects] = apply_changes(target, event.changes)
        elif isinstance(event, EventRetracted):
            if current.pop(event.retracts, None) is None:
                raise UnknownEvent(f"no event {event.retracts!r} to retract here")
        else:
            current[event.event_id] = event
    return list(current.values())


class InvalidCorrection(InvalidInput):
    """A correction naming a field the fact does not have, or a value its model refuses: bad
    input (exit 2), not a contradiction of what is recorded."""


def apply_changes(target: Fact, changes: dict[str, Any]) -> Fact:
    """The target with the corrected fields, validated by its own model."""
    unknown = sorted(set(changes) - set(type(target).model_fields))
    if unknown:
        raise InvalidCorrection(
            f"{type(target).__name__} has no field {', '.join(unknown)} to correct"
        )
    data = target.model_dump(mode="json")
    data.update(changes)
    data["originator_id"] = target.originator_id
    data["originator_version"] = target.originator_version
    try:
        return type(target).model_validate(data)
    except ValueError as error:
        from events.validation import one_line

        raise InvalidCorrection(f"correction is invalid: {one_line(error)}") from None


@dataclass
class Status:
    """One commitment's row on the status board, as of some world date."""

    commitment_id: str
    kind: str = ""
    title: str = ""
    parties: list[dict[str, Any]] = field(default_factory=list)
    meeting_id: str | None = None
    sector: str | None = None
    binding: bool = False
    counted_in_meeting_total: bool = True
    target_on: str | None = None
    days_after_last_notification: int | None = None
    legal_status: str = NOT_SIGNED
    legal_since: str | None = None
    legal_before_suspension: str | None = None
    implementation_status: str = NO_EVIDENCE
    implementation_since: str | None = None
    implementation_before_suspension: str | None = None
    procedures: dict[str, str] = field(default_factory=dict)
    signed_on: str | None = None
    in_force_on: str | None = None
    contracts_value: str | None = None
    last_change_on: str | None = None
    last_change: str | None = None
    last_event_id: str | None = None
    legal_event_id: str | None = None  # the fact that set legal_status
    assessment_score: int | None = None
    assessment_on: str | None = None
    assessment_note: str | None = None
    events: int = 0
    unsourced: int = 0
    last_key: tuple[str, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def clone(self) -> Status:
        """A copy that can be folded on without touching this one (apply only replaces
        fields, except ``procedures``, which it fills in place)."""
        return replace(self, procedures=dict(self.procedures))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Status:
        data = dict(data)
        if data.get("last_key") is not None:
            data["last_key"] = tuple(data["last_key"])
        return cls(**data)

    # -- folding --------------------------------------------------------------

    def apply(self, event: Fact, key: tuple[str, int, int] | None = None) -> None:
        """Fold one fact that comes after every fact already folded, in world order
        (``key``: its ``world_key``, when the caller has it already)."""
        self.events += 1
        if event.source is None:
            self.unsourced += 1
        self.last_key = key or world_key(event)
        if isinstance(event, CommitmentRegistered):
            self._register(event)
            return
        if isinstance(event, Assessed):
            self.assessment_score = event.score
            self.assessment_on = event.occurred_on
            self.assessment_note = event.note
            return
        kind = type(event)
        if kind in LEGAL_FROM:
            self._move_legal(event)
        if isinstance(event, (Suspended, Resumed)):
            self._suspend_or_resume(event)
        self._move_implementation(event)
        self.last_change_on = event.occurred_on
        self.last_change = event.summary()
        self.last_event_id = event.event_id

    def _register(self, event: CommitmentRegistered) -> None:
        self.kind = event.kind
        self.title = event.title
        self.parties = [p.model_dump(exclude_none=True) for p in event.parties]
        self.meeting_id = event.meeting_id
        self.sector = event.sector
        self.binding = event.binding
        self.counted_in_meeting_total = event.counted_in_meeting_total
        self.target_on = event.target_on
        rule = event.entry_into_force
        self.days_after_last_notification = rule.days_after_last_notification if rule else None
        if self.last_change is None:
            self.last_change_on = event.occurred_on
            self.last_change = event.summary()
            self.last_event_id = event.event_id

    def _impossible(self, event: Fact, why: str) -> ImpossibleTransition:
        return ImpossibleTransition(
            f"{event.event_id}: {event.summary()} on {event.occurred_on} is impossible: {why}"
        )

    def _move_legal(self, event: Fact) -> None:
        state = self.legal_status
        if state in LEGAL_FINAL:
            raise self._impossible(event, f"the commitment was {state} on {self.legal_since}")
        if state not in LEGAL_FROM[type(event)]:
            by = f" (recorded fact {self.legal_event_id!r})" if self.legal_event_id else ""
            raise self._impossible(event, f"it was already {state} on {self.legal_since}{by}")
        if isinstance(event, DocumentSigned):
            self._set_legal(SIGNED, event)
            self.signed_on = event.occurred_on
        elif isinstance(event, DomesticProcedureCompleted):
            if not self.binding:
                raise self._impossible(
                    event, "a non-binding instrument has no domestic procedure step"
                )
            countries = {p["country"] for p in self.parties}
            if event.party not in countries:
                raise self._impossible(
                    event, f"{event.party} is not a party ({', '.join(sorted(countries))})"
                )
            self.procedures[event.party] = event.occurred_on
            if state in (NOT_SIGNED, SIGNED):
                self._set_legal(DOMESTIC, event)
        else:
            self._set_legal(LEGAL_TARGET[type(event)], event)
            if self.legal_status == IN_FORCE:
                self.in_force_on = event.occurred_on

    def _set_legal(self, state: str, event: Fact) -> None:
        self.legal_status = state
        self.legal_since = event.occurred_on
        self.legal_event_id = event.event_id

    def _suspend_or_resume(self, event: Suspended | Resumed) -> None:
        if event.track == "legal":
            state = self.legal_status
            if isinstance(event, Suspended):
                if state not in (IN_FORCE, PROVISIONAL):
                    raise self._impossible(event, f"it was {state}, not in force")
                self.legal_before_suspension = state
                self._set_legal(SUSPENDED, event)
            else:
                if state != SUSPENDED:
                    raise self._impossible(event, f"it was {state}, not suspended")
                self._set_legal(self.legal_before_suspension or IN_FORCE, event)
                self.legal_before_suspension = None
        else:
            state = self.implementation_status
            if isinstance(event, Suspended):
                if state not in ("announced", "committed", "in implementation"):
                    raise self._impossible(event, f"implementation was {state}")
                self.implementation_before_suspension = state
                self._set_implementation(SUSPENDED, event)
            else:
                if state != SUSPENDED:
                    raise self._impossible(event, f"implementation was {state}, not suspended")
                self._set_implementation(
                    self.implementation_before_suspension or "committed", event
                )
                self.implementation_before_suspension = None

    def _set_implementation(self, state: str, event: Fact) -> None:
        self.implementation_status = state
        self.implementation_since = event.occurred_on

    def _raise_implementation(self, to: str, event: Fact, *, strict: bool) -> None:
        state = self.implementation_status
        if state == CANCELLED:
            if strict:
                raise self._impossible(
                    event, f"implementation was cancelled on {self.implementation_since}"
                )
            return
        if state == SUSPENDED:
            return
        if IMPLEMENTATION_ORDER.index(to) > IMPLEMENTATION_ORDER.index(state):
            self._set_implementation(to, event)

    def _move_implementation(self, event: Fact) -> None:
        if isinstance(event, (DocumentSigned,)):
            self._raise_implementation("committed", event, strict=False)
        elif isinstance(event, CommercialContractsSigned):
            self._raise_implementation("committed", event, strict=True)
            self.contracts_value = str(event.value)
            if self.legal_status == NOT_SIGNED:
                self._set_legal(SIGNED, event)
                self.signed_on = event.occurred_on
        elif isinstance(event, MilestoneReached):
            self._raise_implementation("in implementation", event, strict=True)
        elif isinstance(event, (SisterCityTieEstablished, UniversityBranchOpened)):
            self._raise_implementation("completed", event, strict=True)
        elif isinstance(event, ImplementationStatusChanged):
            self._change_implementation(event)

    def _change_implementation(self, event: ImplementationStatusChanged) -> None:
        state, to = self.implementation_status, event.status
        if state == CANCELLED:
            raise self._impossible(event, f"implementation was cancelled on {self.implementation_since}")
        if to == CANCELLED:
            self._set_implementation(CANCELLED, event)
            return
        if state == SUSPENDED:
            raise self._impossible(event, "implementation is suspended: record a resumption first")
        if IMPLEMENTATION_ORDER.index(to) < IMPLEMENTATION_ORDER.index(state):
            raise self._impossible(event, f"implementation was already {state}")
        self._set_implementation(to, event)

    # -- what comes next ---------------------------------------------------------

    def next_step(self) -> tuple[str | None, str | None]:
        """The next expected step and the date it is due by, where one is known."""
        legal, impl = self.legal_status, self.implementation_status
        if legal in LEGAL_FINAL or impl == CANCELLED:
            return None, None
        if legal == SUSPENDED:
            return "resumption", None
        if legal == NOT_SIGNED and self.kind != "commercial contracts" and impl in (
            NO_EVIDENCE, "announced"
        ):
            return "signing", self.target_on
        if self.binding and legal in (SIGNED, DOMESTIC):
            countries = sorted({p["country"] for p in self.parties})
            pending = [c for c in countries if c not in self.procedures]
            if pending:
                return "domestic procedures: " + ", ".join(pending), None
            due = None
            if self.days_after_last_notification is not None and self.procedures:
                last = max(world_period(d)[1] for d in self.procedures.values())
                due = (last + timedelta(days=self.days_after_last_notification)).isoformat()
            return "entry into force", due
        if self.binding and legal == PROVISIONAL:
            return "entry into force", None
        if impl == SUSPENDED:
            return "implementation resumed", None
        if impl == "completed":
            return None, None
        if impl == "in implementation":
            return "completion", self.target_on
        return "implementation", self.target_on


def evaluate(
    commitment_id: str,
    events: Iterable[Fact],
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> Status:
    """Fold a commitment's facts (given in recording order) in world order.

    ``known_at`` keeps only what had been recorded by then, corrections included;
    ``as_of`` then keeps the facts that had happened by that world date. A fact known
    only to the month, quarter or year counts once its whole period is past.
    """
    if known_at is not None:
        events = [e for e in events if e.recorded_at is None or e.recorded_at <= known_at]
    facts = effective_events(events)
    if as_of is not None:
        facts = [e for e in facts if world_period(e.occurred_on)[1] <= as_of]
    status = Status(commitment_id=commitment_id)
    keys = [world_key(fact) for fact in facts]
    for n in sorted(range(len(facts)), key=keys.__getitem__):
        status.apply(facts[n], keys[n])
    return status
