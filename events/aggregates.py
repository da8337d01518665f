"""The aggregates: one stream of facts per commitment, meeting or indicator.

A stream checks each new fact against everything it already holds (the rules live in
``events.rules``), stamps it with its place in the stream, and keeps it pending
until the application saves it.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Iterable
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.utils import register_topic
from pydantic import BaseModel, ConfigDict

from events import (
    CommitmentRegistered,
    EventCorrected,
    EventRetracted,
    Fact,
    MeetingHeld,
    event_class,
    parse_line,
)
from events.base import trusted, upcast, utc_now
from events.errors import AlreadyRegistered, DuplicateEventId, ImpossibleTransition, UnknownEvent
from events.rules_version import RULES_VERSION
from events.rules import Status, apply_changes, evaluate, world_key

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

REGISTRATION = {"commitment": CommitmentRegistered, "meeting": MeetingHeld}


class Stream:
    """Every fact of one commitment, meeting or indicator, in recording order."""

    def __init__(self, key: str, version: int = 0, facts: Iterable[Fact] = (),
                 lines: list[dict[str, Any]] | None = None, status: Status | None = None):
        """``lines`` are facts from a snapshot, parsed only when something reads them;
        ``status`` is the commitment's status folded from all of them."""
        self.key = key
        self.id = stream_id(key)
        self._id_text = str(self.id)  # for the seals
        self.version = version
        self.loaded_version = version
        self._lines = lines or None
        self._facts: list[Fact] = list(facts)  # after the unparsed lines, if any
        self._by_event_id = {f.event_id: f for f in self._facts}
        self._event_ids = {line["event_id"] for line in lines or ()} | set(self._by_event_id)
        self._retracted = {line["retracts"] for line in lines or () if line["type"] == "EventRetracted"}
        self._retracted |= {f.retracts for f in self._facts if isinstance(f, EventRetracted)}
        self._pending: list[Fact] = []
        self._digests: dict[str, str] = {}
        self._status: Status | None = status  # status of the first ``_checked`` facts
        self._checked = len(lines) if status is not None and lines else 0

    @property
    def facts(self) -> list[Fact]:
        """Every fact, in recording order."""
        if self._lines is not None:
            parsed = [restore_line(self.id, line) for line in self._lines]
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

    def _last_seal(self) -> str | None:
        if self._facts:
            return self._facts[-1].seal
        return self._lines[-1].get("seal") if self._lines else None

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(":", 1)[1]

    # -- rules -------------------------------------------------------------------

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
        registration = REGISTRATION.get(self.kind)
        if registration is None:
            return
        if isinstance(fact, registration):
            if len(self):
                raise AlreadyRegistered(f"{self.kind} {self.name!r} is already registered")
        elif not len(self):
            raise ImpossibleTransition(f"{self.kind} {self.name!r} must be registered first")

    def check_target(self, fact: Fact) -> None:
        if not isinstance(fact, (EventCorrected, EventRetracted)):
            return
        target_id = fact.corrects if isinstance(fact, EventCorrected) else fact.retracts
        target = self.by_event_id.get(target_id)
        if target is None:
            raise UnknownEvent(f"no event {target_id!r} in {self.key}")
        if isinstance(target, (EventCorrected, EventRetracted)):
            raise ImpossibleTransition(
                f"{target_id!r} is itself a correction or retraction; retract or correct the original"
            )
        if target_id in self._retracted:
            raise ImpossibleTransition(f"{target_id!r} was already retracted")
        if isinstance(target, REGISTRATION.get(self.kind, ())) and isinstance(fact, EventRetracted):
            raise ImpossibleTransition(f"a registration cannot be retracted; correct it instead")
        if isinstance(fact, EventCorrected):
            apply_changes(target, fact.changes)

    def settle(self) -> None:
        """Check the facts added since the last check: the history must still read as a
        possible sequence in world order. Facts that come after everything checked so far
        are folded on; anything else refolds the whole history once."""
        count = len(self)
        if self.kind != "commitment" or self._checked == count:
            return
        current = self._status
        if current is not None:
            new = self._facts[self._checked - count:]  # unchecked facts are never unparsed lines
            keys = [world_key(f) for f in new]
            in_order = (
                all(a <= b for a, b in zip([current.last_key or keys[0], *keys], keys))
                and not any(isinstance(f, (EventCorrected, EventRetracted)) for f in new)
            )
        if current is not None and in_order:
            trial = current.clone()
            for fact in new:
                trial.apply(fact)
        else:
            trial = evaluate(self.name, self.facts)
        self._status, self._checked = trial, count

    # -- changes -----------------------------------------------------------------

    def append(self, fact: Fact, *, settle: bool = True) -> Fact | None:
        """Check and add one fact; None when it is already here word for word.

        With ``settle=False`` the world-order check waits for ``settle()``, so that a batch
        is checked once; until then the stream must not be saved.
        """
        if not self.check_not_duplicate(fact):
            return None
        self.check_registration(fact)
        self.check_target(fact)
        stamped = fact.stamped(
            originator_id=self.id,
            originator_version=self.version + 1,
            recorded_at=fact.recorded_at or utc_now(),
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

    def collect_events(self) -> list[Any]:
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
        settled = self._status is not None and self._checked == len(self)
        return StreamSnapshot(
            originator_id=self.id,
            originator_version=self.version,
            key=self.key,
            facts=[*(self._lines or ()), *map(snapshot_line, self._facts)],
            status=self._status.to_dict() if settled else None,
            rules=RULES_VERSION,
        )


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


def project_stream(stream: Stream | None, events: Iterable[Any]) -> Stream | None:
    """Projector for the repository: snapshot first if there is one, then the facts."""
    for event in events:
        if isinstance(event, StreamSnapshot):
            status = None
            if event.status is not None and event.rules == RULES_VERSION:
                try:
                    status = Status.from_dict(event.status)
                except TypeError:  # made by a version whose status had other fields
                    status = None
            stream = Stream(event.key, event.originator_version, lines=list(event.facts), status=status)
        else:
            if stream is None:
                stream = Stream(event.stream_key())
            stream._apply(event)
    if stream is not None:
        stream.loaded_version = stream.version
    return stream
