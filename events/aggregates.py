"""The aggregates: a ``Commitment``, a ``Meeting`` and an ``IndicatorSeries`` (trade
figures), each the stream of every fact recorded about it.

An aggregate checks each new fact against everything it already holds (the rules of a
commitment's life live in ``events.rules``), stamps it with its place and seal in the
stream, and keeps it pending until the application saves it. What every kind shares
(stream ids, seals, event-id claims, snapshots whose lines are parsed only when read) is
in ``Stream``; what differs (which facts it takes, which one must come first, whether it
folds a status) is in each kind's class.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.utils import register_topic
from pydantic import BaseModel, ConfigDict

from events import (
    ANNOTATIONS,
    ClaimConflicted,
    ClaimSettled,
    CommitmentEvent,
    CommitmentRegistered,
    EventCorrected,
    EventRetracted,
    Fact,
    MeetingEvent,
    MeetingHeld,
    StepExpected,
    TradeFigureReported,
    event_class,
    parse_line,
    target_of,
)
from events.base import trusted, upcast, utc_now, world_period
from events.errors import (
    AlreadyRegistered,
    DuplicateEventId,
    ImpossibleTransition,
    InvalidInput,
    NotHappenedYet,
    UnknownEvent,
)
from events.fast_models import keep_line, stored_reader
from events.rules import Status, apply_changes, effective_events, evaluate, folds_on, world_key
from events.rules_version import RULES_VERSION

NAMESPACE = uuid5(NAMESPACE_URL, "tracker:streams")


def stream_id(key: str) -> UUID:
    return uuid5(NAMESPACE, key)


def claim_id(event_id: str) -> UUID:
    return uuid5(NAMESPACE, f"event-id:{event_id}")


def seal(previous: str | None, fact: Fact, line: dict[str, Any] | None = None, stream: str | None = None) -> str:
    """The fact's seal: a hash of its place, its content and the seal before it in its stream.

    ``stream`` is ``str(fact.originator_id)`` when the caller has it already."""
    body = orjson.dumps(
        [previous or "", stream or str(fact.originator_id), fact.originator_version, line or fact.to_line()],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def digest(fact: Fact, line: dict[str, Any] | None = None) -> str:
    """Fingerprint of what a fact says (not when it was recorded): same id, same digest."""
    line = dict(line or fact.to_line())
    line.pop("recorded_at", None)
    return hashlib.sha256(orjson.dumps(line, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


class EventIdClaimed(BaseModel):
    """Reserves an event id across the whole store, atomically with the event itself."""

    model_config = ConfigDict(frozen=True)
    class_version: ClassVar[int] = 1
    json_fields: ClassVar[bool] = True  # stored as its fields are, without a dump (one per fact)
    originator_id: UUID
    originator_version: int = 1
    event_id: str | None = None
    stream: str
    digest: str


# The class versions of the facts in every snapshot of version 1, whose lines do not say
# theirs: all were written while these were the versions (1 for any other type).
V1_SNAPSHOT_LINE_VERSIONS = {"CommitmentRegistered": 2}


class StreamSnapshot(BaseModel):
    """A stream's facts as JSON Lines objects (plus version and seal), and the commitment's
    status folded from all of them, so that adding a fact in world order reads neither.

    Version 2: a line says its fact's class version when above 1, as a stored fact does, so
    that a line written before its class changed is upcast like the stored fact."""

    model_config = ConfigDict(frozen=True)
    class_version: ClassVar[int] = 2
    originator_id: UUID
    originator_version: int
    key: str
    facts: list[Any]  # not list[dict]: validating 10,000 dicts copies each one
    status: dict[str, Any] | None = None
    rules: int | None = None  # the RULES_VERSION that folded ``status``

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        for line in state["facts"]:
            version = V1_SNAPSHOT_LINE_VERSIONS.get(line["type"])
            if version:
                line["class_version"] = version


# Claims and snapshots were stored under these names before the aggregates joined the
# domain's modules (0.6): stores written before read them as they are.
register_topic("tracker.aggregates:EventIdClaimed", EventIdClaimed)
register_topic("tracker.aggregates:StreamSnapshot", StreamSnapshot)

# A save that carries a stream's version past a multiple of this also stores its snapshot.
SNAPSHOT_EVERY = 200


class Stream:
    """What every aggregate shares: its facts in recording order, each sealed to the one
    before, pending until saved; the facts of a snapshot kept as lines until read."""

    kind: ClassVar[str]
    # The fact that opens the stream: the first, and only once (None: any accepted fact).
    registration: ClassVar[type[Fact] | None] = None
    # What it takes besides corrections and retractions, which go where their target is.
    accepts: ClassVar[tuple[type[Fact], ...]]

    def __init__(self, name: str, version: int = 0, lines: list[dict[str, Any]] | None = None):
        """``lines``: facts from a snapshot, parsed only when something reads them."""
        self.name = name
        self.key = f"{self.kind}:{name}"
        self.id = stream_id(self.key)
        self._id_text = str(self.id)  # for the seals
        self.version = version
        self.loaded_version = version  # what the store holds
        self._lines = lines or None
        self._facts: list[Fact] = []  # after the unparsed lines, if any
        self._by_event_id: dict[str, Fact] = {}
        self._event_ids = {line["event_id"] for line in lines or ()}
        self._retracted = {line["retracts"] for line in lines or () if line["type"] == "EventRetracted"}
        self._pending: list[Fact] = []
        self._digests: dict[str, str] = {}

    @staticmethod
    def for_key(key: str) -> Stream:
        """A new, empty aggregate of the kind the key names (``commitment:visa``...)."""
        kind, name = key.split(":", 1)
        return kind_of(kind)(name)

    @classmethod
    def key_of(cls, name: str) -> str:
        return f"{cls.kind}:{name}"

    @classmethod
    def opened_by(cls, fact: Fact) -> bool:
        """Whether this fact can start a stream of this kind."""
        return cls.registration is None or isinstance(fact, cls.registration)

    @classmethod
    def from_snapshot(cls, snapshot: StreamSnapshot) -> Stream:
        return cls(snapshot.key.split(":", 1)[1], snapshot.originator_version, lines=list(snapshot.facts))

    # -- what it holds -----------------------------------------------------------

    @property
    def facts(self) -> list[Fact]:
        """Every fact, in recording order."""
        if self._lines is not None:
            # restored as the store's own facts are read, not validated again: a fact
            # learnt out of world order folds them all
            parsed = [restore_stored_line(self.id, line) for line in self._lines]
            self._facts = parsed + self._facts
            self._by_event_id.update((f.event_id, f) for f in parsed)
            self._lines = None
        return self._facts

    @property
    def by_event_id(self) -> dict[str, Fact]:
        self.facts  # noqa: B018 - parses the snapshot's lines if not done yet
        return self._by_event_id

    def holds(self, event_id: str) -> bool:
        return event_id in self._event_ids

    def __len__(self) -> int:
        return len(self._facts) + len(self._lines or ())

    @property
    def pending(self) -> Sequence[Fact]:
        """The facts appended since the last save, stamped and sealed (not a copy: read only)."""
        return self._pending

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    @property
    def settled(self) -> bool:
        """Whether every fact appended has passed every check (see ``settle``)."""
        return True

    @property
    def snapshot_due(self) -> bool:
        """Whether the facts saved since it was loaded carried it past a multiple of
        ``SNAPSHOT_EVERY``: then a snapshot saves the next reader from reading them all."""
        return self.version // SNAPSHOT_EVERY > self.loaded_version // SNAPSHOT_EVERY

    def mark_saved(self) -> None:
        """The store now holds every fact appended so far."""
        self.loaded_version = self.version

    def _last_seal(self) -> str | None:
        if self._facts:
            return self._facts[-1].seal
        return self._lines[-1].get("seal") if self._lines else None

    # -- rules -------------------------------------------------------------------

    def check_belongs(self, fact: Fact) -> None:
        """A fact goes in the stream of what it is about; a correction or retraction goes
        where its target is (``check_target``)."""
        match fact:
            case _ if target_of(fact) is not None:
                return
            case _ if not isinstance(fact, self.accepts):
                raise InvalidInput(f"a {fact.type} cannot be recorded in {self.kind} {self.name!r}")
            case _ if fact.stream_key() != self.key:
                raise InvalidInput(f"{fact.event_id!r} is about {fact.stream_key()}, not {self.key}")

    def check_not_duplicate(self, fact: Fact) -> bool:
        """False when this very fact is already here (a repeat), raise when the id is taken."""
        if not self.holds(fact.event_id):
            return True
        known = self.by_event_id[fact.event_id]
        if digest(known) == digest(fact):
            return False
        raise DuplicateEventId(
            f"event id {fact.event_id!r} is already recorded with other content"
        )

    def check_registration(self, fact: Fact) -> None:
        if self.registration is None:
            return
        if isinstance(fact, self.registration):
            if len(self):
                raise AlreadyRegistered(f"{self.kind} {self.name!r} is already registered")
        elif not len(self):
            raise ImpossibleTransition(f"{self.kind} {self.name!r} must be registered first")

    def check_target(self, fact: Fact) -> None:
        target_id = target_of(fact)
        if target_id is None:
            return
        target = self.by_event_id.get(target_id)
        if target is None:
            raise UnknownEvent(f"no event {target_id!r} in {self.key}")
        if isinstance(target, (EventCorrected, EventRetracted)):
            raise ImpossibleTransition(
                f"{target_id!r} is itself a correction or retraction; retract or correct the original"
            )
        if target_id in self._retracted:
            raise ImpossibleTransition(f"{target_id!r} was already retracted")
        match fact:
            case EventRetracted() if self.registration is not None and isinstance(target, self.registration):
                raise ImpossibleTransition("a registration cannot be retracted; correct it instead")
            case EventRetracted() if isinstance(target, ClaimConflicted) and target_id in self._settlements():
                raise ImpossibleTransition(f"claim {target_id!r} was settled by {self._settlements()[target_id]!r};"
                                           " retract the settlement first")
            case EventCorrected() if isinstance(target, ANNOTATIONS):
                raise ImpossibleTransition(f"{target_id!r} is a {target.type}: retract it and record it again")
            case EventCorrected(changes=changes):
                self.check_happened(apply_changes(target, changes), utc_now())
            case _ if isinstance(fact, ANNOTATIONS):
                self.check_annotation(fact, target)

    def check_annotation(self, fact: Fact, target: Fact) -> None:
        """A citation or a claim names a recorded fact; a settlement names an open claim."""
        if isinstance(fact, ClaimSettled):
            self._check_settlement(fact, target)
            return
        if isinstance(target, ANNOTATIONS):
            raise ImpossibleTransition(f"{target.event_id!r} is itself a {target.type}: name the fact it is about")
        if isinstance(fact, ClaimConflicted):
            standing = self._standing(target.event_id)
            claimed = apply_changes(standing, fact.claims, "claim")
            if all(getattr(claimed, name) == getattr(standing, name) for name in fact.claims):
                raise ImpossibleTransition(
                    f"{fact.event_id}: the claim says what {target.event_id!r} records; record a SourceCited instead")

    def _check_settlement(self, fact: ClaimSettled, claim: Fact) -> None:
        if not isinstance(claim, ClaimConflicted):
            raise ImpossibleTransition(f"{claim.event_id!r} is a {claim.type}, not a ClaimConflicted:"
                                       " only a conflicting claim is settled")
        settled_by = self._settlements().get(claim.event_id)
        if settled_by is not None:
            raise ImpossibleTransition(f"claim {claim.event_id!r} was already settled by {settled_by!r}")
        contested = claim.conflicts_with
        if contested in self._retracted:
            raise ImpossibleTransition(f"claim {claim.event_id!r} contradicts {contested!r}, which was retracted:"
                                       " retract the claim instead")
        if fact.outcome == "claim accepted":
            claimed = apply_changes(self._standing(contested), claim.claims, "claim")
            # Accepting applies the claim as a correction would, so it may not date the fact in the future.
            now = utc_now()
            if not happened_by(claimed, now):
                raise NotHappenedYet(
                    f"{fact.event_id}: claim {claim.event_id!r} cannot be accepted: it dates {contested!r}"
                    f" {claimed.occurred_on}, which has not happened yet ({now:%Y-%m-%d}); settle it with"
                    " 'recorded fact stands'")

    def _settlements(self) -> dict[str, str]:
        """Each settled claim's event id -> the event id of the settlement still in force."""
        return {f.settles: f.event_id for f in self.facts
                if isinstance(f, ClaimSettled) and f.event_id not in self._retracted}

    def _standing(self, event_id: str) -> Fact:
        """The fact as it now stands: corrections and accepted claims applied (with its own
        sources, not those of its citations)."""
        for fact in effective_events(self.facts, cited=False):
            if fact.event_id == event_id:
                return fact
        raise UnknownEvent(f"no event {event_id!r} standing in {self.key}")

    def check_happened(self, fact: Fact, recorded_at: datetime) -> None:
        """A fact must have happened when it is recorded into this store: its period may not
        start after that moment (the world's first time zone, UTC+14, decides). What is
        announced for later is recorded as expected. An imported fact is checked against the
        moment of the import, not its own ``recorded_at``: older versions accepted facts dated
        after their recording, and their exports must import (nothing recorded is stranded)."""
        if happened_by(fact, recorded_at):
            return
        if isinstance(fact, StepExpected):  # an announcement is dated when it was made
            instead = f"date it when it was announced; the step's date is its expected_on ({fact.expected_on})"
        elif isinstance(fact, CommitmentEvent):
            step = _EXPECTED_AS.get(fact.type, "implementation")
            # the command runs as printed once the announcement's date is filled in: it keeps the source
            source = f" --source-title {shlex.quote(fact.sources[0].title)}" if fact.sources else ""
            instead = (f"record it as expected: tracker record step-expected --commitment-id {fact.commitment_id}"
                       f" --step '{step}' --expected-on {fact.occurred_on} --occurred-on <when it was announced>"
                       f"{source}")
        else:
            instead = "record it once it has happened"
        raise NotHappenedYet(
            f"{fact.event_id}: {fact.type} on {fact.occurred_on} has not happened yet"
            f" (recorded {recorded_at:%Y-%m-%d}): {instead}"
        )

    def settle(self) -> None:
        """Run the checks that wait for a whole batch (``append(..., settle=False)``)."""

    # -- changes -----------------------------------------------------------------

    def append(self, fact: Fact, *, settle: bool = True) -> Fact | None:
        """Check and add one fact; None when it is already here word for word.

        With ``settle=False`` the checks that read the whole history wait for ``settle()``,
        so that a batch is checked once; until then the stream must not be saved.
        """
        self.check_belongs(fact)
        if not self.check_not_duplicate(fact):
            return None
        self.check_registration(fact)
        now = utc_now()
        recorded_at = fact.recorded_at or now
        self.check_happened(fact, now)
        self.check_target(fact)
        stamped = fact.stamped(
            originator_id=self.id,
            originator_version=self.version + 1,
            recorded_at=recorded_at,
        )
        previous = self._last_seal()
        line = stamped.to_line()
        # The seal is computed from the stamped fact itself, so it is set in place once.
        stamped.__dict__["seal"] = seal(previous, stamped, line, self._id_text)
        self._digests[stamped.event_id] = digest(stamped, line)
        self._apply(stamped)
        self._pending.append(stamped)
        if settle:
            self.settle()
        return stamped

    def _apply(self, fact: Fact) -> None:
        if isinstance(fact, EventRetracted):
            self._retracted.add(fact.retracts)
        self.version = fact.originator_version or self.version + 1
        self._facts.append(fact)
        self._by_event_id[fact.event_id] = fact
        self._event_ids.add(fact.event_id)

    def collect_events(self) -> list[Fact | EventIdClaimed]:
        """The pending facts, and a claim on each one's event id, for the application to save."""
        pending = [
            *self._pending,
            *(trusted(EventIdClaimed, {
                "originator_id": claim_id(f.event_id), "originator_version": 1, "event_id": f.event_id,
                "stream": self.key, "digest": self._digests.pop(f.event_id, None) or digest(f)})
              for f in self._pending),
        ]
        self._pending = []
        return pending

    def snapshot(self) -> StreamSnapshot:
        return StreamSnapshot(
            originator_id=self.id,
            originator_version=self.version,
            key=self.key,
            facts=[*(self._lines or ()), *map(snapshot_line, self._facts)],
            status=self._snapshot_status(),
            rules=RULES_VERSION,
        )

    def _snapshot_status(self) -> dict[str, Any] | None:
        return None


def happened_by(fact: Fact, recorded_at: datetime) -> bool:
    """Whether a fact's period starts no later than the day ``recorded_at`` is anywhere on
    earth (the world's first time zone, UTC+14)."""
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=timezone.utc)
    latest_day = (recorded_at.astimezone(timezone.utc) + timedelta(hours=14)).date()
    return world_period(fact.occurred_on)[0] <= latest_day


# The step a fact dated in the future would be, were it recorded as expected (StepExpected.step).
_EXPECTED_AS = {
    "DocumentSigned": "signing", "DomesticProcedureCompleted": "domestic procedures",
    "DomesticProcedureStepTaken": "domestic procedures", "ProvisionallyApplied": "provisional application",
    "EnteredIntoForce": "entry into force", "VisaExemptionEnteredIntoForce": "entry into force",
    "UniversityBranchOpened": "opening", "FacilityOpened": "opening", "SisterCityTieEstablished": "opening",
    "Resumed": "resumption",
}


class Commitment(Stream):
    """A commitment: registered first, then every fact of its legal and implementation
    tracks, which must read as a possible sequence in world order (folded into its status)."""

    kind = "commitment"
    registration = CommitmentRegistered
    accepts = (CommitmentEvent,)

    def __init__(self, name: str, version: int = 0, lines: list[dict[str, Any]] | None = None,
                 status: Status | None = None):
        """``status``: folded from all of ``lines`` (by these rules), when the snapshot kept it."""
        super().__init__(name, version, lines)
        self._status: Status | None = status  # status of the first ``_checked`` facts
        self._checked = len(lines) if status is not None and lines else 0

    @classmethod
    def from_snapshot(cls, snapshot: StreamSnapshot) -> Commitment:
        status = None
        if snapshot.status is not None and snapshot.rules == RULES_VERSION:
            try:
                status = Status.from_dict(snapshot.status)
            except TypeError:  # made by a version whose status had other fields
                status = None
        return cls(snapshot.key.split(":", 1)[1], snapshot.originator_version, lines=list(snapshot.facts),
                   status=status)

    @property
    def settled(self) -> bool:
        return self._status is not None and self._checked == len(self)

    @property
    def status(self) -> Status:
        """Where the commitment stands with every fact it holds (settling them first)."""
        self.settle()
        assert self._status is not None
        return self._status

    def settle(self) -> None:
        """Check the facts added since the last check: the history must still read as a
        possible sequence in world order. Facts that come after everything checked so far
        are folded on; anything else refolds the whole history once."""
        count = len(self)
        if self.settled:
            return
        current = self._status
        if current is not None:
            new = self._facts[self._checked - count:]  # unchecked facts are never unparsed lines
            in_order = (
                folds_on(current, [world_key(f) for f in new])
                and not any(target_of(f) is not None for f in new)  # it changes or annotates another
            )
        if current is not None and in_order:
            trial = current.clone()
            for fact in new:
                trial.apply(fact)
        else:
            trial = evaluate(self.name, self.facts)
        self._status, self._checked = trial, count

    def _snapshot_status(self) -> dict[str, Any] | None:
        return self._status.to_dict() if self.settled and self._status is not None else None


class Meeting(Stream):
    """A meeting: held first (once), then each source's count of the documents signed there."""

    kind = "meeting"
    registration = MeetingHeld
    accepts = (MeetingEvent,)


class IndicatorSeries(Stream):
    """One indicator over time, such as the trade between two countries as each reports it."""

    kind = "indicator"
    accepts = (TradeFigureReported,)


KINDS: dict[str, type[Stream]] = {kind.kind: kind for kind in (Commitment, Meeting, IndicatorSeries)}


def kind_of(kind: str) -> type[Stream]:
    try:
        return KINDS[kind]
    except KeyError:
        raise LookupError(f"no kind of stream {kind!r}") from None


def snapshot_line(fact: Fact) -> dict[str, Any]:
    """A fact as its stream's snapshot keeps it: its line, place, seal and class version."""
    line = {**fact.to_line(), "v": fact.originator_version, "seal": fact.seal}
    if fact.class_version > 1:
        line["class_version"] = fact.class_version
    return line


def restore_line(originator_id: UUID, line: dict[str, Any]) -> Fact:
    """A fact back from its snapshot line, upcast if its class has changed since."""
    line = dict(line)
    version, sealed = line.pop("v"), line.pop("seal", None)
    upcast(event_class(line["type"]), line)
    return parse_line(line).stamped(originator_id=originator_id, originator_version=version, seal=sealed)


# What a snapshot line holds besides its fact's JSON line (``snapshot_line``).
_SNAPSHOT_ONLY = frozenset({"v", "seal", "class_version"})


def restore_stored_line(originator_id: UUID, line: dict[str, Any]) -> Fact:
    """A fact back from its snapshot line as the store's mapper reads a stored fact: trusted,
    with its JSON line kept, when written at its class's current version; else as
    ``restore_line`` does (upcast, then validated)."""
    cls = event_class(line["type"])
    read = stored_reader(cls) if line.get("class_version", 1) == cls.class_version else None
    if read is not None:
        kept = {k: v for k, v in line.items() if k not in _SNAPSHOT_ONLY}
        state = {**kept, "originator_id": originator_id, "originator_version": line["v"], "seal": line.get("seal")}
        del state["type"]
        fact = read(state)
        if fact is not None:
            keep_line(fact, kept)
            return fact
    return restore_line(originator_id, line)


def project_stream(stream: Stream | None, events: Iterable[Fact | StreamSnapshot]) -> Stream | None:
    """Projector for the repository: snapshot first if there is one, then the facts."""
    for event in events:
        match event:
            case StreamSnapshot(key=key):
                stream = kind_of(key.split(":", 1)[0]).from_snapshot(event)
            case _:
                if stream is None:
                    stream = Stream.for_key(event.stream_key())
                stream._apply(event)
    if stream is not None:
        stream.mark_saved()
    return stream
