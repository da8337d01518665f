"""Where a commitment stands: its legal and implementation tracks, folded in world order.

The rule for facts learnt out of order: every fact is placed by *when it happened*
(the first day of its ``occurred_on`` period; facts starting the same day follow the
legal process: registered, signed, procedures, provisional application, in force,
suspension, end), and the whole history must then read as a possible sequence.
Gaps are allowed — an entry into force may be recorded before anyone records the
signing — but contradictions are not: a signing dated after the entry into force,
a resumption with no suspension, anything on a track after its final state.

Imprecise world dates (``events.base.world_period``) are placed so that they never make a
real history impossible: a period is placed at its first day, but an open start
("../2024-03-01": on or before) at its end bound, the latest it can be; an unknown date
(XXXX) is placed where the legal process puts it, after the last placed fact of the same
or a lower rank (a ratification of unknown date after the signing, before the entry into
force). A commitment holding an unknown date is folded again whole on each new fact.

``as_of`` counts a fact as happened when it *certainly* had: its period ended by then, or
it was recorded by then (whatever is recorded has happened). A fact whose period spans
the date *possibly* had: it is not counted, but named in ``Status.possibly``; one that
starts later had *not yet*. A ``StepExpected`` gives the next step's due date until the
step happens.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable

import orjson

from events import (
    Assessed,
    ClaimConflicted,
    ClaimSettled,
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
    Fact,
    ImplementationStatusChanged,
    InstrumentsRelated,
    Lapsed,
    MilestoneReached,
    ProvisionallyApplied,
    Resumed,
    SisterCityTieEstablished,
    Source,
    SourceCited,
    StepExpected,
    Superseded,
    Suspended,
    TargetSet,
    Terminated,
    UniversityBranchOpened,
    VisaExemptionEnteredIntoForce,
    Withdrawn,
    world_period,
)
from events.base import replaced, world_place
from events.commitments import BINDING_INSTRUMENTS, COMPLETING_STEPS
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
# What each lifecycle calls its last state (ranked as "completed"): an opened facility
# operates, an established tie is active, a regime in force is in effect.
IN_EFFECT, OPERATING, ACTIVE = "in effect", "operating", "active"
DONE_STATE = {"regime": IN_EFFECT, "facility": OPERATING, "tie": ACTIVE}
# The facts that open something: a branch, a centre, a sister-city tie.
OPENINGS = (UniversityBranchOpened, FacilityOpened, SisterCityTieEstablished)
NOT_IN_EFFECT = "not in effect"  # a regime whose instrument is suspended or has ended
_RANKED_AS = {**{done: COMPLETED for done in DONE_STATE.values()}, NOT_IN_EFFECT: "committed"}
# Each implementation state's place in IMPLEMENTATION_ORDER (``Status._rank``), looked up once per fact.
_RANKS = {state: IMPLEMENTATION_ORDER.index(_RANKED_AS.get(state, state))
          for state in [*IMPLEMENTATION_ORDER, *_RANKED_AS]}

_BEFORE_FORCE = {NOT_SIGNED, SIGNED, DOMESTIC, PROVISIONAL}
_ENDABLE = {NOT_SIGNED, SIGNED, DOMESTIC, PROVISIONAL, IN_FORCE, SUSPENDED}
_CARRYING = ("follows up", "supersedes")  # relations by which a later instrument carries another forward

# Where each legal event may come from; "not signed" is allowed where a gap in what we
# know is plausible (the signing not recorded yet).
LEGAL_FROM: dict[type, set[str]] = {
    DocumentSigned: {NOT_SIGNED},
    DomesticProcedureCompleted: _BEFORE_FORCE,
    DomesticProcedureStepTaken: _BEFORE_FORCE,
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
    DomesticProcedureStepTaken: 2,
    InstrumentsRelated: 2,
    CommitmentsRelated: 2,
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
    StepExpected: 9,
}


UNDATED = "unknown"  # the place of an unknown date in a world key: after every ISO date


def world_key(event: Fact) -> tuple[str, int, int]:
    """Sort key of world order; ISO dates sort as strings. An unknown date sorts last here;
    ``evaluate`` folds it where the legal process puts it (see the module's docstring)."""
    return (world_place(event.occurred_on) or UNDATED, RANK.get(type(event), 5), event.originator_version or 0)


def folds_on(state: Status, keys: Iterable[tuple[str, int, int]]) -> bool:
    """Whether facts of these world keys (in this order) can be folded onto ``state`` as
    they come and give what folding everything again gives: each comes after the last,
    and neither they nor the facts folded hold an unknown date."""
    if state.undated:
        return False
    previous = state.last_key
    for key in keys:
        if key[0] == UNDATED or (previous is not None and key < previous):
            return False
        previous = key
    return True


def certainty(fact: Fact, as_of: date) -> str:
    """Whether a fact had happened by ``as_of``: "certainly" (its period ended by then, or it
    was recorded by then), "possibly" (its period spans the date) or "not yet"."""
    first, last, _ = world_period(fact.occurred_on)
    if last <= as_of or (fact.recorded_at is not None and fact.recorded_at.date() <= as_of):
        return "certainly"
    return "possibly" if first <= as_of else "not yet"


def effective_events(events: Iterable[Fact], *, cited: bool = True) -> list[Fact]:
    """The facts as they now stand: corrections and accepted claims applied, retractions
    removed, each citation's sources added to the fact it cites (unless ``cited`` is
    False: each with its own sources only); then the conflicting claims still open
    (``ClaimConflicted``), which the fold counts."""
    events = list(events)
    # A citation, claim or settlement that is retracted never happened, whenever retracted.
    withdrawn = {e.retracts for e in events if isinstance(e, EventRetracted)}
    current: dict[str, Fact] = {}
    claims: dict[str, ClaimConflicted] = {}
    # Other sources of a fact, added last: a correction is checked against the fact's own
    # sources, however many others report it.
    others: dict[str, list[Source]] = {}
    annotations: set[str] = set()
    for event in events:
        if isinstance(event, (SourceCited, ClaimConflicted, ClaimSettled)):
            annotations.add(event.event_id)
            if event.event_id not in withdrawn:
                _annotate(event, current, claims, others)
        elif isinstance(event, EventCorrected):
            target = current.get(event.corrects)
            if target is None:
                raise UnknownEvent(f"no event {event.corrects!r} to correct here")
            current[event.corrects] = apply_changes(target, event.changes)
        elif isinstance(event, EventRetracted):
            if current.pop(event.retracts, None) is None and event.retracts not in annotations:
                raise UnknownEvent(f"no event {event.retracts!r} to retract here")
        else:
            current[event.event_id] = event
    standing = [with_sources(fact, others[event_id]) if cited and event_id in others else fact
                for event_id, fact in current.items()]
    return [*standing, *(c for c in claims.values() if c.conflicts_with in current)]


def _annotate(event: SourceCited | ClaimConflicted | ClaimSettled, current: dict[str, Fact],
              claims: dict[str, ClaimConflicted], cited: dict[str, list[Source]]) -> None:
    if isinstance(event, ClaimSettled):
        claim = claims.pop(event.settles, None)
        if claim is None:
            raise UnknownEvent(f"no open claim {event.settles!r} to settle here")
        if event.outcome == "claim accepted" and claim.conflicts_with in current:
            target = current[claim.conflicts_with]
            current[claim.conflicts_with] = apply_changes(target, claim.claims, "claim")
            cited.setdefault(claim.conflicts_with, []).extend(claim.sources)
        return
    named = event.cites if isinstance(event, SourceCited) else event.conflicts_with
    if named not in current:
        raise UnknownEvent(f"no event {named!r} here for {event.event_id!r}")
    if isinstance(event, SourceCited):
        cited.setdefault(named, []).extend(event.sources)
    else:
        claims[event.event_id] = event


def with_sources(fact: Fact, more: list[Source]) -> Fact:
    """The fact with these sources added to its own (each once)."""
    sources = list(fact.sources)
    added = False
    for source in more:
        if source not in sources:
            sources.append(source)
            added = True
    return replaced(fact, {"source": sources}) if added else fact


class InvalidCorrection(InvalidInput):
    """A correction naming a field the fact does not have, or a value its model refuses: bad
    input (exit 2), not a contradiction of what is recorded."""


def apply_changes(target: Fact, changes: dict[str, Any], what: str = "correction") -> Fact:
    """The target with the corrected fields, validated by its own model (``what`` changes
    them, as an error says: a correction, or an accepted claim)."""
    unknown = sorted(set(changes) - set(type(target).model_fields))
    if unknown:
        verb = "correct" if what == "correction" else "contradict"
        raise InvalidCorrection(
            f"{type(target).__name__} has no field {', '.join(unknown)} to {verb}"
        )
    data = target.model_dump(mode="json")
    data.update(changes)
    data["originator_id"] = target.originator_id
    data["originator_version"] = target.originator_version
    try:
        return type(target).model_validate(data)
    except ValueError as error:
        from events.validation import one_line

        raise InvalidCorrection(f"{what} is invalid: {one_line(error)}") from None


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
    lifecycle: str = "generic"
    deliverables: list[str] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # a plan's target -> due on
    met: dict[str, str] = field(default_factory=dict)  # deliverable or target -> met on
    by_party: dict[str, str] = field(default_factory=dict)  # country -> its side's progress
    value: dict[str, Any] | None = None  # the commitment's standing value (Money as JSON)
    delivered: str | None = None  # a contract's delivered amount, in its value's currency
    last_change_on: str | None = None
    last_change: str | None = None
    last_event_id: str | None = None
    legal_event_id: str | None = None  # the fact that set legal_status
    assessment_score: int | None = None
    assessment_on: str | None = None
    assessment_note: str | None = None
    events: int = 0
    unsourced: int = 0
    # Each distinct source of the standing facts (a short digest) -> whether one is official.
    cited: dict[str, bool] = field(default_factory=dict)
    # What each fact folded says (a short digest, sources and note aside) -> whether it has a
    # source: the same fact recorded again under another id corroborates it.
    seen: dict[str, bool] = field(default_factory=dict)
    open_claims: int = 0
    last_key: tuple[str, int, int] | None = None
    # The instruments that carry the commitment, in the order they were signed (see
    # ``_instrument``); the legal fields above mirror the current one's (``_mirror``).
    instruments: list[dict[str, Any]] = field(default_factory=list)
    instrument_id: str | None = None  # the current instrument's, when it has one
    registered_binding: bool = False
    registered_rule: dict[str, Any] | None = None
    related_commitments: list[dict[str, str]] = field(default_factory=list)
    undated: int = 0  # facts of unknown date folded
    expected: dict[str, str] = field(default_factory=dict)  # step -> its announced date
    possibly: list[str] = field(default_factory=list)  # as of a date: facts that possibly had happened

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def clone(self) -> Status:
        """A copy that can be folded on without touching this one (apply only replaces
        fields, except ``procedures``, ``cited`` and ``seen``, which it fills in place)."""
        return replace(self, procedures=dict(self.procedures),
                       instruments=[_copy_instrument(i) for i in self.instruments],
                       related_commitments=list(self.related_commitments), expected=dict(self.expected),
                       targets=dict(self.targets), met=dict(self.met), by_party=dict(self.by_party),
                       cited=dict(self.cited), seen=dict(self.seen))

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
        if isinstance(event, ClaimConflicted):
            self.open_claims += 1  # beside the fact it contradicts, which stands
            return
        sources = event.sources
        if not isinstance(event, (Assessed, CommitmentRegistered)):
            said = what_it_says(event)
            if said in self.seen:
                self._corroborate(said, sources)
                return
            self.seen[said] = bool(sources)
        self.events += 1
        if not sources:
            self.unsourced += 1
        self._cite(sources)
        self.last_key = key or world_key(event)
        self.undated += self.last_key[0] == UNDATED
        if isinstance(event, StepExpected):
            self.expected[event.step] = event.expected_on
            return
        if isinstance(event, CommitmentRegistered):
            self._register(event)
            return
        if isinstance(event, Assessed):
            self.assessment_score = event.score
            self.assessment_on = event.occurred_on
            self.assessment_note = event.note
            return
        if isinstance(event, CommitmentsRelated):
            self.related_commitments.append(
                {"relation": event.relation, "commitment_id": event.other_commitment_id})
            return
        kind = type(event)
        if kind in LEGAL_FROM:
            self._move_legal(event)
        if isinstance(event, InstrumentsRelated):
            self._relate_instruments(event)
        if isinstance(event, (Suspended, Resumed)):
            self._suspend_or_resume(event)
        self._move_implementation(event)
        self.last_change_on = event.occurred_on
        self.last_change = event.summary()
        self.last_event_id = event.event_id

    def _cite(self, sources: list[Source]) -> None:
        for source in sources:
            key = source_key(source)
            self.cited[key] = self.cited.get(key, False) or source.official

    def _corroborate(self, said: str, sources: list[Source]) -> None:
        """The same fact, reported again by other sources: not a second step."""
        self._cite(sources)
        if sources and not self.seen[said]:
            self.seen[said] = True
            self.unsourced -= 1

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
        self.registered_binding = event.binding
        self.registered_rule = rule.model_dump(exclude_none=True) if rule else None
        if self.instruments:  # facts dated before the registration
            self._mirror()
        self.lifecycle = event.follows
        self.deliverables = list(event.deliverables or [])
        if event.value is not None and self.value is None:
            self.value = event.value.model_dump(mode="json")
        if self.lifecycle == "reciprocal":
            for country in self.countries():
                self.by_party.setdefault(country, NO_EVIDENCE)
        if self.last_change is None:
            self.last_change_on = event.occurred_on
            self.last_change = event.summary()
            self.last_event_id = event.event_id

    def _impossible(self, event: Fact, why: str) -> ImpossibleTransition:
        return ImpossibleTransition(
            f"{event.event_id}: {event.summary()} on {event.occurred_on} is impossible: {why}"
        )

    def _move_legal(self, event: Fact) -> None:
        instrument = self._instrument(event)
        state = instrument["legal_status"]
        if state in LEGAL_FINAL:
            raise self._impossible(event, f"{self._which(instrument, 'the commitment')} was {state}"
                                          f" on {instrument['legal_since']}")
        if state not in LEGAL_FROM[type(event)]:
            recorded = instrument["legal_event_id"]
            by = f" (recorded fact {recorded!r})" if recorded else ""
            if recorded:
                by += f"; a source that reports it otherwise is a ClaimConflicted on {recorded!r}"
            if isinstance(event, DocumentSigned) and event.instrument_id is None:
                by += "; another instrument carrying it is recorded with its own instrument_id"
            raise self._impossible(event, f"{self._which(instrument, 'it')} was already {state}"
                                          f" on {instrument['legal_since']}{by}")
        if isinstance(event, DocumentSigned):
            instrument.update(type=event.instrument, place=event.place, binding=event.binding)
            if event.entry_into_force is not None:
                instrument["rule"] = event.entry_into_force.model_dump(exclude_none=True)
            self._set_legal(SIGNED, event, instrument)
        elif isinstance(event, (DomesticProcedureCompleted, DomesticProcedureStepTaken)):
            if not self._binding(instrument):
                raise self._impossible(
                    event, "a non-binding instrument has no domestic procedure step"
                )
            countries = {p["country"] for p in self.parties}
            if event.party not in countries:
                raise self._impossible(
                    event, f"{event.party} is not a party ({', '.join(sorted(countries))})"
                )
            if isinstance(event, DomesticProcedureStepTaken):
                instrument["steps"][event.party] = event.step
            if not isinstance(event, DomesticProcedureStepTaken) or event.step in self._completing(instrument):
                instrument["procedures"][event.party] = event.occurred_on
            if state in (NOT_SIGNED, SIGNED):
                self._set_legal(DOMESTIC, event, instrument)
            else:
                self._mirror()
        else:
            self._set_legal(LEGAL_TARGET[type(event)], event, instrument)

    # -- instruments -------------------------------------------------------------

    def _instrument(self, event: Fact) -> dict[str, Any]:
        """The instrument a legal fact is about: the one it names, else the latest signed
        so far in world order (the first, unsigned, when none is). A signing that names
        an instrument not seen yet signs a new one, or names the first if nothing has
        happened to it."""
        instruments = self.instruments or [_new_instrument(None, 0)]
        self.instruments = instruments
        named = getattr(event, "instrument_id", None)
        if named is None:
            signed = [i for i in instruments if i["signed_on"] is not None]
            return max(signed, key=_signed_order) if signed else instruments[0]
        found = self._named(named)
        if found is not None:
            return found
        first = instruments[0]
        if first["id"] is None and first["legal_status"] == NOT_SIGNED and not first["steps"]:
            first["id"] = named
            return first
        if not isinstance(event, DocumentSigned):
            raise self._impossible(
                event, f"no instrument {named!r} was signed by then: record its signing first"
                       f" (DocumentSigned with instrument_id {named})")
        instrument = _new_instrument(named, len(instruments))
        instruments.append(instrument)
        return instrument

    def _named(self, name: str) -> dict[str, Any] | None:
        """The instrument of this name; the first, when its signing names none, goes by the
        commitment's id (so that facts recorded before instruments had names can be linked)."""
        for instrument in self.instruments:
            if (instrument["id"] or self.commitment_id) == name:
                return instrument
        return None

    def _which(self, instrument: dict[str, Any], alone: str) -> str:
        """How a refusal names an instrument: as before while the commitment has only one."""
        if len(self.instruments) < 2:
            return alone
        return f"instrument {instrument['id'] or self.commitment_id}"

    def _binding(self, instrument: dict[str, Any]) -> bool:
        """Whether the instrument binds its parties: as its signing says; else, for the first,
        as the commitment was registered, and for a later one, by its type."""
        if instrument["binding"] is not None:
            return instrument["binding"]
        if instrument["order"] == 0:
            return self.registered_binding
        return BINDING_INSTRUMENTS.get(instrument["type"], self.registered_binding)

    def _rule(self, instrument: dict[str, Any]) -> dict[str, Any]:
        if instrument["rule"] is not None:
            return instrument["rule"]
        return (self.registered_rule or {}) if instrument["order"] == 0 else {}

    def _completing(self, instrument: dict[str, Any]) -> tuple[str, ...]:
        return tuple(self._rule(instrument).get("completed_by") or COMPLETING_STEPS)

    def _current(self) -> dict[str, Any]:
        """The instrument that gives the commitment its legal status: the latest signed
        that has not ended, leaving aside those that only amend, implement or terminate
        another and those carried forward by a later one; the latest signed of them
        when every one has ended."""
        carrying = [i for i in self.instruments if not i["attached"] and not i["carried_forward"]]
        carrying = carrying or self.instruments
        live = [i for i in carrying if i["legal_status"] not in LEGAL_FINAL]
        return max(live or carrying, key=_signed_order)

    def current_instrument(self) -> dict[str, Any] | None:
        """The instrument whose legal track is the commitment's (None before any legal fact)."""
        return self._current() if self.instruments else None

    def _mirror(self) -> None:
        """Show the current instrument's legal track as the commitment's."""
        current = self._current()
        self.instrument_id = current["id"] or self.commitment_id
        self.legal_status = current["legal_status"]
        self.legal_since = current["legal_since"]
        self.legal_event_id = current["legal_event_id"]
        self.legal_before_suspension = current["before_suspension"]
        self.procedures = dict(current["procedures"])
        self.signed_on = current["signed_on"]
        self.in_force_on = current["in_force_on"]
        self.binding = self._binding(current)
        self.days_after_last_notification = self._rule(current).get("days_after_last_notification")

    def _relate_instruments(self, event: InstrumentsRelated) -> None:
        if event.instrument_id == event.other_instrument_id:
            raise self._impossible(event, "an instrument cannot relate to itself")
        this, other = self._named(event.instrument_id), self._named(event.other_instrument_id)
        if this is None or other is None:
            missing = event.instrument_id if this is None else event.other_instrument_id
            unnamed = "" if self.instruments and self.instruments[0]["id"] else \
                f" (the first instrument, whose signing names none, goes by {self.commitment_id!r})"
            raise self._impossible(event, f"no instrument {missing!r} was signed by then: record its"
                                          f" signing first (DocumentSigned with instrument_id){unnamed}")
        if this["legal_status"] in LEGAL_FINAL:
            raise self._impossible(event, f"{event.instrument_id} was {this['legal_status']}"
                                          f" on {this['legal_since']}")
        if event.relation in _CARRYING and self._carries(other, this):
            raise self._impossible(event, f"{event.other_instrument_id} already carries {event.instrument_id}"
                                          " forward (follows it up or supersedes it)")
        this["relations"].append([event.relation, event.other_instrument_id])
        if event.relation in ("amends", "implements", "terminates"):
            this["attached"] = True
        if event.relation in _CARRYING:
            other["carried_forward"] = True
        if event.relation in ("supersedes", "terminates"):
            ended = "superseded" if event.relation == "supersedes" else "terminated"
            if other["legal_status"] not in _ENDABLE:
                raise self._impossible(event, f"{event.other_instrument_id} was {other['legal_status']}"
                                              f" on {other['legal_since']}")
            self._set_legal(ended, event, other)
        else:
            self._mirror()

    def _carries(self, instrument: dict[str, Any], other: dict[str, Any]) -> bool:
        """Whether ``instrument`` follows up or supersedes ``other``, directly or through others."""
        seen, todo = set(), [instrument]
        while todo:
            current = todo.pop()
            for relation, name in current["relations"]:
                found = self._named(name)
                if relation not in _CARRYING or found is None or name in seen:
                    continue
                if found is other:
                    return True
                seen.add(name)
                todo.append(found)
        return False

    def _set_legal(self, state: str, event: Fact, instrument: dict[str, Any] | None = None) -> None:
        instrument = instrument or self._instrument(event)
        instrument["legal_status"] = state
        instrument["legal_since"] = event.occurred_on
        instrument["legal_event_id"] = event.event_id
        if state == SIGNED and instrument["signed_on"] is None:
            instrument["signed_on"] = event.occurred_on
            instrument["signed_order"] = sum(i["signed_on"] is not None for i in self.instruments)
        if state == IN_FORCE and isinstance(event, tuple(LEGAL_TARGET)):
            instrument["in_force_on"] = event.occurred_on
        self._mirror()

    def _suspend_or_resume(self, event: Suspended | Resumed) -> None:
        if event.track == "legal":
            instrument = self._instrument(event)
            state = instrument["legal_status"]
            if isinstance(event, Suspended):
                if state not in (IN_FORCE, PROVISIONAL):
                    raise self._impossible(event, f"{self._which(instrument, 'it')} was {state}, not in force")
                instrument["before_suspension"] = state
                self._set_legal(SUSPENDED, event, instrument)
            else:
                if state != SUSPENDED:
                    raise self._impossible(event, f"{self._which(instrument, 'it')} was {state}, not suspended")
                before, instrument["before_suspension"] = instrument["before_suspension"], None
                self._set_legal(before or IN_FORCE, event, instrument)
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

    def countries(self) -> list[str]:
        """The parties' countries, each once, in the order the registration names them."""
        return list(dict.fromkeys(p["country"] for p in self.parties))

    def _rank(self, state: str) -> int:
        return _RANKS[state]

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
        if self._rank(to) > self._rank(state):
            self._set_implementation(to, event)

    def _move_implementation(self, event: Fact) -> None:
        party = getattr(event, "party", None)
        if party is not None and isinstance(event, (MilestoneReached, ImplementationStatusChanged, *OPENINGS)):
            self._check_party(event, party)
        if isinstance(event, (DocumentSigned,)):
            self._raise_implementation("committed", event, strict=False)
        elif isinstance(event, CommercialContractsSigned):
            self._raise_implementation("committed", event, strict=True)
            self.contracts_value = str(event.value)
            self.value = event.money.model_dump(mode="json")
            if self.legal_status == NOT_SIGNED:
                self._set_legal(SIGNED, event)
                self.signed_on = event.occurred_on
        elif isinstance(event, MilestoneReached):
            self._reach_milestone(event)
        elif isinstance(event, OPENINGS):
            self._open(event)
        elif isinstance(event, TargetSet):
            if self.lifecycle != "plan":
                raise self._impossible(
                    event, f"targets belong to plans, and this commitment is a {self.lifecycle}"
                    " (correct its registration's lifecycle to plan)")
            self.targets[event.target] = event.due_on
        elif isinstance(event, ImplementationStatusChanged):
            if party is None:
                self._change_implementation(event)
            else:
                self._change_side(event, party)
        if self.lifecycle == "regime":
            self._follow_legal_track(event)

    def _check_party(self, event: Fact, party: str) -> None:
        countries = self.countries()
        if party not in countries:
            raise self._impossible(event, f"{party} is not a party ({', '.join(sorted(countries))})")

    def _reach_milestone(self, event: MilestoneReached) -> None:
        if self.implementation_status == CANCELLED:
            raise self._impossible(event, f"implementation was cancelled on {self.implementation_since}")
        if event.meets is not None:
            self._meet(event, event.meets)
        if event.party is not None and self.by_party.get(event.party) in (None, NO_EVIDENCE):
            self.by_party[event.party] = f"in implementation {event.occurred_on}"
        if self.lifecycle == "contract" and event.value is not None and self.value is not None \
                and event.value.currency == self.value["currency"]:
            from decimal import Decimal

            self.delivered = str(Decimal(self.delivered or "0") + event.value.amount)
            if Decimal(self.delivered) >= Decimal(self.value["amount"]):
                self._raise_implementation(COMPLETED, event, strict=True)
                return
        if self.lifecycle == "declaration" and self.deliverables and \
                all(d in self.met for d in self.deliverables):
            self._raise_implementation(COMPLETED, event, strict=True)
            return
        self._raise_implementation("in implementation", event, strict=True)

    def _meet(self, event: MilestoneReached, meets: str) -> None:
        if self.lifecycle == "declaration" and self.deliverables:
            known, what = self.deliverables, "deliverable"
        elif self.lifecycle == "plan":
            known, what = list(self.targets), "target set by then"
        else:
            raise self._impossible(
                event, f"a {self.lifecycle} has no deliverables or targets to meet"
                " (record the milestone without meets)")
        if meets not in known:
            listed = "; ".join(known) or "none"
            raise self._impossible(event, f"{meets!r} is no {what} (they are: {listed})")
        self.met.setdefault(meets, event.occurred_on)

    def _open(self, event: Fact) -> None:
        party = getattr(event, "party", None)
        if self.lifecycle == "reciprocal":
            if party is None:
                raise self._impossible(
                    event, "each party opens its own here: say whose side opened (party)")
            self._change_side(event, party, f"opened {event.occurred_on}")
            return
        if party is not None:
            self.by_party[party] = f"opened {event.occurred_on}"
        if self.lifecycle in ("facility", "tie"):
            self._raise_implementation(DONE_STATE[self.lifecycle], event, strict=True)
        elif self.lifecycle == "generic":
            self._raise_implementation(COMPLETED, event, strict=True)
        else:
            self._raise_implementation("in implementation", event, strict=True)

    def _change_side(self, event: Fact, party: str, progress: str | None = None) -> None:
        """One party's side moved: a reciprocal commitment completes once every side has."""
        if self.implementation_status == CANCELLED:
            raise self._impossible(event, f"implementation was cancelled on {self.implementation_since}")
        if isinstance(event, ImplementationStatusChanged):
            if event.status == CANCELLED:
                raise self._impossible(
                    event, "one side cannot be cancelled alone: record the commitment's cancellation"
                    " without a party, or that party's withdrawal")
            progress = f"{event.status} {event.occurred_on}"
        self.by_party[party] = progress or f"in implementation {event.occurred_on}"
        done = [c for c in self.countries() if _side_done(self.by_party.get(c))]
        if self.lifecycle == "reciprocal" and len(done) == len(self.countries()):
            self._raise_implementation(COMPLETED, event, strict=True)
        elif done or isinstance(event, OPENINGS) or "in implementation" in (progress or ""):
            self._raise_implementation("in implementation", event, strict=True)
        elif isinstance(event, ImplementationStatusChanged):
            self._raise_implementation(event.status, event, strict=True)

    def _follow_legal_track(self, event: Fact) -> None:
        """A regime is in effect while its instrument is in force (or applied provisionally)."""
        legal, state = self.legal_status, self.implementation_status
        if state in (CANCELLED, SUSPENDED):
            return
        if legal in (IN_FORCE, PROVISIONAL) and state != IN_EFFECT:
            self._set_implementation(IN_EFFECT, event)
        elif legal not in (IN_FORCE, PROVISIONAL) and state == IN_EFFECT:
            self._set_implementation(NOT_IN_EFFECT, event)

    def _change_implementation(self, event: ImplementationStatusChanged) -> None:
        state, to = self.implementation_status, event.status
        if state == CANCELLED:
            raise self._impossible(event, f"implementation was cancelled on {self.implementation_since}")
        if to == CANCELLED:
            self._set_implementation(CANCELLED, event)
            return
        if state == SUSPENDED:
            raise self._impossible(event, "implementation is suspended: record a resumption first")
        if state == NOT_IN_EFFECT:
            raise self._impossible(event, "a regime's implementation follows its legal track")
        if IMPLEMENTATION_ORDER.index(to) < self._rank(state):
            raise self._impossible(event, f"implementation was already {state}")
        self._set_implementation(to, event)

    # -- what comes next ---------------------------------------------------------

    def _progress(self, country: str) -> str:
        """A party whose domestic procedure is pending, with the last step it took."""
        step = self._current()["steps"].get(country) if self.instruments else None
        return f"{country} ({step})" if step else country

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
                return "domestic procedures: " + ", ".join(self._progress(c) for c in pending), None
            due = None
            if self.days_after_last_notification is not None and self.procedures:
                last = max(world_period(d)[1] for d in self.procedures.values())
                due = (last + timedelta(days=self.days_after_last_notification)).isoformat()
            return "entry into force", due
        if self.binding and legal == PROVISIONAL:
            return "entry into force", None
        return self.next_implementation_step()

    def next_implementation_step(self) -> tuple[str | None, str | None]:
        """What the commitment's lifecycle expects next once the legal track asks nothing."""
        impl, lifecycle = self.implementation_status, self.lifecycle
        if impl == SUSPENDED:
            return "implementation resumed", None
        if impl == COMPLETED or impl in DONE_STATE.values() or lifecycle == "regime":
            return None, None
        if lifecycle == "reciprocal":
            waiting = [c for c in self.countries() if not _side_done(self.by_party.get(c))]
            return "opening: " + ", ".join(waiting), self.target_on
        if lifecycle == "facility":
            return "opening", self.target_on
        if lifecycle == "tie":
            return "establishment", self.target_on
        if lifecycle == "declaration":
            unmet = [d for d in self.deliverables if d not in self.met]
            return ("deliverable: " + unmet[0], self.target_on) if unmet else (None, None)
        if lifecycle == "plan" and self.targets:
            due_next = sorted((world_period(due)[0], due, t) for t, due in self.targets.items() if t not in self.met)
            return ("target: " + due_next[0][2], due_next[0][1]) if due_next else (None, None)
        if lifecycle == "contract" and impl in ("committed", "in implementation"):
            return "delivery", self.target_on
        if impl == "in implementation":
            return "completion", self.target_on
        return "implementation", self.target_on

    def progress(self) -> dict[str, str]:
        """Each party's side, where a fact names one (every party, for a reciprocal one)."""
        return {c: self.by_party[c] for c in self.countries() if c in self.by_party}

    def upcoming(self) -> tuple[str | None, str | None]:
        """The next step and its due date: the date announced for it (``StepExpected``)
        where there is one, else what ``next_step`` gives."""
        step, due = self.next_step()
        if step is not None:
            for expected, on in self.expected.items():
                if step == expected or step.startswith(expected + ":"):
                    return step, on
        return step, due


def _side_done(progress: str | None) -> bool:
    return progress is not None and progress.startswith(("opened", COMPLETED))


def _new_instrument(name: str | None, order: int) -> dict[str, Any]:
    """An instrument of a commitment before anything has happened to it (``binding`` and
    ``rule`` None: as the commitment was registered, or as its type says)."""
    return {"id": name, "order": order, "type": None, "place": None, "signed_on": None, "signed_order": 0,
            "binding": None, "rule": None, "legal_status": NOT_SIGNED, "legal_since": None,
            "legal_event_id": None, "before_suspension": None, "in_force_on": None, "procedures": {},
            "steps": {}, "relations": [], "attached": False, "carried_forward": False}


def _signed_order(instrument: dict[str, Any]) -> int:
    return instrument["signed_order"]


def _copy_instrument(instrument: dict[str, Any]) -> dict[str, Any]:
    return {**instrument, "procedures": dict(instrument["procedures"]), "steps": dict(instrument["steps"]),
            "relations": [list(r) for r in instrument["relations"]]}


def world_order(facts: list[Fact]) -> list[tuple[Fact, tuple[str, int, int]]]:
    """The facts with their world keys, in the order they are folded: by key, each fact of
    unknown date after the last placed fact of the same or a lower rank."""
    keyed = sorted(((fact, world_key(fact)) for fact in facts), key=lambda pair: pair[1])
    undated = [pair for pair in keyed if pair[1][0] == UNDATED]
    if not undated:
        return keyed
    order = keyed[: len(keyed) - len(undated)]
    for pair in sorted(undated, key=lambda pair: pair[1][1:]):
        at = max((n + 1 for n, (_, key) in enumerate(order) if key[1] <= pair[1][1]), default=0)
        order.insert(at, pair)
    return order


# What a fact says apart from who says it: a fact recorded again with only these changed
# is the same fact (a corroboration).
NOT_WHAT_IT_SAYS = frozenset({"event_id", "source", "note", "recorded_at"})


def what_it_says(event: Fact) -> str:
    """A short digest of what a fact says (type, date and fields; not its id, sources or note)."""
    said = event.to_line().copy()  # the line is shared: a copy to take fields out of
    for name in NOT_WHAT_IT_SAYS:
        said.pop(name, None)
    return hashlib.blake2b(orjson.dumps(said, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def source_key(source: Source) -> str:
    """A short digest of who a source is (its kind aside: the same source said more precisely)."""
    who = [source.title, source.publisher, source.published_on, source.address]
    return hashlib.blake2b(orjson.dumps(who), digest_size=6).hexdigest()


# Facts share a few sources (a source is frozen, so hashable): each source's key made once.
# By assignment, as world_period's, so that a mutation run can empty it between tests.
source_key = lru_cache(maxsize=4096)(source_key)


def evaluate(
    commitment_id: str,
    events: Iterable[Fact],
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> Status:
    """Fold a commitment's facts (given in recording order) in world order.

    ``known_at`` keeps only what had been recorded by then, corrections included;
    ``as_of`` then keeps the facts that certainly had happened by that world date (see
    ``certainty``) and names those that possibly had in ``Status.possibly``.
    """
    if known_at is not None:
        events = [e for e in events if e.recorded_at is None or e.recorded_at <= known_at]
    facts = effective_events(events)
    possibly: list[Fact] = []
    if as_of is not None:
        judged = [(fact, certainty(fact, as_of)) for fact in facts]
        facts = [fact for fact, judged_as in judged if judged_as == "certainly"]
        possibly = [fact for fact, judged_as in judged if judged_as == "possibly"]
    status = Status(commitment_id=commitment_id)
    for fact, key in world_order(facts):
        status.apply(fact, key)
    status.possibly = [f"{fact.summary()} ({fact.occurred_on})" for fact, _ in world_order(possibly)]
    return status
