"""The tracker application: a thin set of verbs over the event store."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    PersistenceError,
    RecordConflictError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import Environment

from events import (
    FACT_TOPICS,
    ClaimConflicted,
    ClaimSettled,
    CommitmentEvent,
    EventCorrected,
    EventRetracted,
    Fact,
    SourceCited,
    target_of,
)
from events.aggregates import (
    Commitment,
    EventIdClaimed,
    Meeting,
    Stream,
    claim_id,
    digest,
    project_stream,
    stream_id,
)
from events.errors import (
    ConcurrentChange,
    DuplicateEventId,
    SaveOutcomeUnknown,
    StoreUnavailable,
    TrackerError,
    UnknownCommitment,
    UnknownEvent,
    UnknownMeeting,
)
from events.rules import Status, evaluate
from tracker.config import Store
from tracker.keys import KeyedCipher, check_key, marker
from tracker.persistence import first_records

RETRIES = 50
# Writers that keep losing the race keep trying for this long, however many tries that takes:
# on a busy machine eight writers on one commitment can take more than RETRIES turns.
RETRY_FOR = 60.0
# What a fact naming another one does to it, as an error about a missing target says.
VERBS = {EventCorrected: "correct", EventRetracted: "retract", SourceCited: "cite",
         ClaimConflicted: "contradict", ClaimSettled: "settle"}


@dataclass
class Recorded:
    added: int = 0
    unchanged: int = 0
    # Every notification this write made, and the facts among them: read models that were
    # up to date before it can take these without reading them back from the store.
    notification_ids: list[int] = field(default_factory=list)
    facts: list[tuple[int, Fact]] = field(default_factory=list)
    # Each commitment this write touched, as it stands with everything recorded so far
    # (checked while recording): the read models need not fold it again.
    statuses: dict[str, Status] = field(default_factory=dict)


class SaveUnconfirmed(Exception):
    """The connection broke while saving: the save may or may not have been committed."""

    def __init__(self, error: Exception, added: list[tuple[Fact, str]], result: Recorded):
        super().__init__(str(error).strip())
        self.added, self.result = added, result


class Tracker(Application[UUID]):
    """Records facts about commitments and answers where each stands."""

    name = "tracker"
    env = {
        "MAPPER_TOPIC": "tracker.persistence:PydanticMapper",
        "TRANSCODER_TOPIC": "tracker.persistence:OrjsonTranscoder",
        "IS_SNAPSHOTTING_ENABLED": "y",
        # A stream stays in memory between commands of one process and only new events
        # are read (fast-forward); failed changes evict it, so no copy is needed.
        "AGGREGATE_CACHE_MAXSIZE": "256",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def __init__(self, store: Store):
        self.store = store
        if store.is_postgres and store.postgres_schema != "public":
            create_schema(store)
        for attempt in range(20):
            try:
                super().__init__(env={**self.env, **store.environment()})
                break
            except (PersistenceError, sqlite3.Error) as error:
                # Processes starting together race to create the same tables and functions.
                racing = any(w in str(error) for w in ("concurrently", "already exists", "deadlock"))
                if not racing or attempt == 19:
                    raise StoreUnavailable(f"cannot open the store {store.label}: {error}") from None
                time.sleep(random.uniform(0.01, 0.1))
        try:
            self._key_marked = check_key(self, store.key_variable)
        except TrackerError:
            self.close()
            raise

    @property
    def cipher(self) -> KeyedCipher | None:
        """The store's cipher (None: clear text); tracker.config chooses one that keeps its key."""
        return cast("KeyedCipher | None", self.mapper.cipher)

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """The store's settings only: eventsourcing would also read os.environ, where our
        TRACKER_CIPHER_KEY (``CIPHER_KEY`` behind the app's name) overrides the key chosen
        for the store (rotate-key opens its new store under another variable's key)."""
        return Environment(name, {**type(self).env, **(env or {})})

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Every save: the first one of a store not marked yet marks it with its key, in
        the same transaction (two first writers conflict on the marker: the loser retries
        and finds the winner's key)."""
        if not self._key_marked and processing_event.events:
            if not check_key(self, self.store.key_variable):
                processing_event.events.append(marker(self.cipher))
        recordings = super()._record(processing_event)
        self._key_marked = self._key_marked or bool(recordings)
        return recordings

    # -- writing ---------------------------------------------------------------

    def record(self, fact: Fact) -> Recorded:
        """Record one fact; a repeat of a recorded fact (same id, same content) is a no-op."""
        return self.record_many([fact])

    def record_many(
        self,
        facts: Iterable[Fact],
        progress: Callable[[int], None] | None = None,
    ) -> Recorded:
        """Record facts all together or not at all, retrying when another writer got there first."""
        facts = list(facts)
        give_up_at = time.monotonic() + RETRY_FOR
        attempt = 0
        while attempt < RETRIES or time.monotonic() < give_up_at:
            attempt += 1
            try:
                return self._record_all(facts, progress)
            except SaveUnconfirmed as unconfirmed:
                self._forget_cached_streams()
                landed = self._landed(unconfirmed)
                if landed is None:
                    reason = str(unconfirmed).splitlines()[0] if str(unconfirmed) else "connection lost"
                    raise SaveOutcomeUnknown(f"lost the store {self.store.label} while saving ({reason})") from None
                if landed:
                    return unconfirmed.result
                progress = None
            except (RecordConflictError, OperationalError) as error:
                self._forget_cached_streams()
                if isinstance(error, OperationalError) and "locked" not in str(error):
                    raise StoreUnavailable(f"cannot write to the store {self.store.label}: {error};"
                                           " nothing was written") from None
                time.sleep(random.uniform(0.005, 0.05) * min(attempt, 10))
                progress = None
            except BaseException:
                self._forget_cached_streams()
                raise
        raise ConcurrentChange(
            f"other writers kept changing the same records; nothing was written after {attempt} tries"
        )

    def _record_all(self, facts: list[Fact], progress: Callable[[int], None] | None) -> Recorded:
        result = Recorded()
        streams, order = self._append_all(facts, result, progress)
        touched = [s for s in streams if s.has_pending]
        for stream in touched:
            stream.settle()
        if touched:
            self.wait_for_other_writers()
        self._save_all(touched, order, result)
        if progress:
            progress(len(facts))
        return result

    def _append_all(self, facts: list[Fact], result: Recorded,
                    progress: Callable[[int], None] | None) -> tuple[list[Stream], dict[str, int]]:
        """Append each fact to its stream (read or started as needed): every stream read, and
        the place of each fact added among those added (by event id)."""
        streams: dict[str, Stream] = {}
        fresh_store = self.recorder.max_notification_id() is None
        claims = {} if fresh_store else self.claims(facts)
        located: dict[str, str] = {}
        for n, fact in enumerate(facts, 1):
            key = self._stream_key(fact, located, claims)
            stream = streams.get(key)
            if stream is None:
                stream = streams[key] = self.load_or_start(key, fact, fresh_store)
            elsewhere = located.get(fact.event_id)
            if elsewhere is not None and elsewhere != key:
                raise DuplicateEventId(f"event id {fact.event_id!r} is used twice: in {elsewhere} and {key}")
            claim = claims.get(fact.event_id)
            if claim is not None and claim.stream != key:
                raise DuplicateEventId(f"event id {fact.event_id!r} is already used in {claim.stream}")
            meeting = fact.__dict__.get("meeting_id")
            if isinstance(fact, CommitmentEvent) and meeting and Meeting.key_of(meeting) not in streams:
                streams[Meeting.key_of(meeting)] = self.meeting(meeting)  # a commitment cites a meeting held
            if stream.append(fact, settle=False) is None:
                result.unchanged += 1
            else:
                located[fact.event_id] = key
                result.added += 1
            if progress and n % 1000 == 0:
                progress(n)
        return list(streams.values()), {event_id: n for n, event_id in enumerate(located)}

    def _save_all(self, touched: list[Stream], order: dict[str, int], result: Recorded) -> None:
        """Save the facts appended (all or none), then a snapshot of each stream that is due one.

        The facts are stored in the order they were given, across streams (each followed by
        the claim on its id), not stream by stream: the store's recording order is the order
        of the input, so an export gives back the file imported."""
        added = [(f, s.key) for s in touched for f in s.pending]
        events = [event for stream in touched for event in stream.collect_events()]
        events.sort(key=lambda event: (order[event.event_id or ""], isinstance(event, EventIdClaimed)))
        try:
            recordings = self.save(*events)
        except (OperationalError, InterfaceError) as error:
            if not self.store.is_postgres or "lock timeout" in str(error):
                raise  # SQLite commits all or nothing, and a lock is taken before any write
            raise SaveUnconfirmed(error, added, result) from None
        for recording in recordings:
            result.notification_ids.append(recording.notification.id)
            if isinstance(recording.domain_event, Fact):
                result.facts.append((recording.notification.id, recording.domain_event))
        for stream in touched:
            if isinstance(stream, Commitment):
                result.statuses[stream.name] = stream.status
            if self.snapshots and stream.snapshot_due:
                try:
                    self.snapshots.put([stream.snapshot()])
                except PersistenceError:
                    pass  # the facts are saved: a snapshot only saves reading them, and a later write makes it
            stream.mark_saved()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """eventsourcing's ``save``; given facts and claims only, it skips asking of each object
        whether it is an event or an aggregate: runtime protocol checks that took a fifth of
        a large import."""
        if kwargs or not all(isinstance(o, (Fact, EventIdClaimed)) for o in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events = list(objs)
        recordings = self._record(processing_event)
        self._notify(recordings)
        return recordings

    def write_records(self, batches: Iterable[Sequence[StoredEvent]], checked_at: int | None,
                      last_claim: UUID) -> bool:
        """Write records made from facts checked against the store as it was at position
        ``checked_at``, in one transaction (see tracker.bulk), waiting for other writers first.
        False, writing nothing, when the store has moved since. ``last_claim``: the id of the
        last record, looked for when the connection breaks during the write (SaveOutcomeUnknown
        when it cannot be known whether the write was committed)."""
        self.wait_for_other_writers()
        try:
            with self.recorder.writing() as write:  # type: ignore[attr-defined]
                if self.recorder.max_notification_id() != checked_at:
                    self._forget_cached_streams()  # they took facts checked against the store as it was
                    return False
                for batch in batches:
                    write(batch)
                if not self._key_marked and not check_key(self, self.store.key_variable):
                    write([self.mapper.to_stored_event(marker(self.cipher))])
        except (OperationalError, InterfaceError, sqlite3.OperationalError) as error:
            self._forget_cached_streams()
            if "lock" in str(error) and ("timeout" in str(error) or "locked" in str(error)):
                raise StoreUnavailable(f"another process kept the store {self.store.label} locked;"
                                       " nothing was written (try again when it is done)") from None
            if self.store.is_postgres:
                landed = self._landed_record(last_claim)
                if landed is None:
                    reason = (str(error).splitlines() or ["connection lost"])[0]
                    raise SaveOutcomeUnknown(f"lost the store {self.store.label} while saving ({reason})") from None
                if landed:
                    self._key_marked = True
                    return True
            raise StoreUnavailable(f"cannot write to the store {self.store.label}: {error};"
                                   " nothing was written") from None
        except BaseException:
            self._forget_cached_streams()
            raise
        self._key_marked = True
        return True

    def _landed_record(self, originator_id: UUID) -> bool | None:
        """Whether the record of this id is in the store; None when the store cannot be asked."""
        try:
            return bool(first_records(self.recorder, [originator_id]))
        except PersistenceError:
            return None

    def wait_for_other_writers(self) -> None:
        """Wait, saying so after a second, while another process writes to the store."""
        from tracker.config import POSTGRES_LOCK_TIMEOUT, SQLITE_LOCK_TIMEOUT
        from tracker.locks import wait_for_postgres_writer, wait_for_sqlite_writer

        if self.store.is_postgres:
            wait_for_postgres_writer(self.recorder, "the store", POSTGRES_LOCK_TIMEOUT)
        else:
            wait_for_sqlite_writer(self.store.location, "the store", SQLITE_LOCK_TIMEOUT)

    def _landed(self, unconfirmed: SaveUnconfirmed) -> bool | None:
        """Whether a save whose connection broke was committed, found by looking for the
        claims of its event ids; None when the store cannot be asked."""
        try:
            claims = self.claims([fact for fact, _ in unconfirmed.added])
        except PersistenceError:
            return None
        found = [claims.get(fact.event_id) for fact, _ in unconfirmed.added]
        if all(c is not None and c.stream == key and c.digest == digest(fact)
               for c, (fact, key) in zip(found, unconfirmed.added)):
            return True
        return None if any(found) else False

    def _forget_cached_streams(self) -> None:
        """Streams changed in memory by a failed attempt must be read again from the store.

        (eventsourcing's LRUCache.clear() resets its queue but keeps its entries, so evict each.)
        """
        cache = self.repository.cache
        if cache is None:
            return
        for key in list(getattr(cache, "cache", {})):
            try:
                cache.get(key, evict=True)
            except KeyError:
                pass

    def _stream_key(self, fact: Fact, located: dict[str, str], claims: dict[str, EventIdClaimed]) -> str:
        """The stream a fact goes in: a correction or retraction goes where its target is."""
        target = target_of(fact)
        if target is None:
            return fact.stream_key()
        if target in located:
            return located[target]
        claim = claims.get(target)
        if claim is None:
            raise UnknownEvent(f"no recorded event {target!r} to {VERBS[type(fact)]}")
        return claim.stream

    def claims(self, facts: list[Fact]) -> dict[str, EventIdClaimed]:
        """The claims already recorded on these facts' event ids, and on those they name
        (correct, retract, cite, contradict, settle), by event id."""
        wanted = {f.event_id for f in facts}
        wanted |= {target for target in map(target_of, facts) if target is not None}
        return self.claims_on(wanted)

    def claims_on(self, event_ids: Iterable[str]) -> dict[str, EventIdClaimed]:
        """The claims recorded on these event ids, by event id."""
        records = first_records(self.recorder, map(claim_id, event_ids))
        claims = (self.mapper.to_domain_event(r) for r in records)
        return {c.event_id: c for c in claims if isinstance(c, EventIdClaimed) and c.event_id is not None}

    def load_or_start(self, key: str, fact: Fact, fresh_store: bool) -> Stream:
        """The stream, read from the store, or a new one when ``fact`` can open it."""
        try:
            if fresh_store:  # nothing to read (two queries and a not-found, 0.3 ms a stream)
                raise self.missing(key)
            return self.stream(key)
        except (UnknownCommitment, UnknownMeeting, UnknownEvent):
            new = Stream.for_key(key)
            if not new.opened_by(fact):
                raise
            return new

    # -- reading -----------------------------------------------------------------

    def stream(self, key: str) -> Stream:
        """The aggregate of this key (``commitment:visa``, ``meeting:xian``...), as stored."""
        try:
            stream: Stream = self.repository.get(  # type: ignore[type-var]  # a snapshot, then facts
                stream_id(key), projector_func=project_stream)
        except AggregateNotFoundError:
            raise self.missing(key) from None
        return stream

    def commitment(self, commitment_id: str) -> Commitment:
        commitment = self.stream(Commitment.key_of(commitment_id))
        assert isinstance(commitment, Commitment)
        return commitment

    def meeting(self, meeting_id: str) -> Meeting:
        meeting = self.stream(Meeting.key_of(meeting_id))
        assert isinstance(meeting, Meeting)
        return meeting

    @staticmethod
    def missing(key: str) -> TrackerError:
        kind, name = key.split(":", 1)
        if kind == "commitment":
            return UnknownCommitment(f"no commitment {name!r} (see 'tracker status')")
        if kind == "meeting":
            return UnknownMeeting(f"no meeting {name!r} (see 'tracker meetings')")
        return UnknownEvent(f"nothing recorded for {key}")

    def history(self, commitment_id: str) -> list[Fact]:
        """Every fact of a commitment, in recording order."""
        return self.commitment(commitment_id).facts

    def status(
        self, commitment_id: str, as_of: date | None = None, known_at: datetime | None = None
    ) -> Status:
        return evaluate(commitment_id, self.history(commitment_id), as_of=as_of, known_at=known_at)

    def facts(self, after: int = 0, batch: int = 1000) -> Iterator[tuple[int, Fact]]:
        """Every fact in the store in recording order, with its notification id."""
        mapper = self.mapper
        while True:
            notifications = self.recorder.select_notifications(
                start=after, limit=batch, inclusive_of_start=False
            )
            if not notifications:
                return
            for n in notifications:
                if n.topic in FACT_TOPICS:
                    yield n.id, cast(Fact, mapper.to_domain_event(n))
            after = notifications[-1].id

    def board(
        self, as_of: date | None = None, known_at: datetime | None = None
    ) -> list[Status]:
        """Every commitment as it stood, replayed from the events themselves."""
        from projections import replay

        return replay.statuses((fact for _, fact in self.facts()), as_of=as_of, known_at=known_at)


def create_schema(store: Store) -> None:
    """eventsourcing expects the schema to exist; make it so."""
    import psycopg
    from psycopg import sql

    env = store.environment()
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
            autocommit=True, connect_timeout=10,
        ) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(store.postgres_schema)))
    except psycopg.Error as error:
        raise StoreUnavailable(f"cannot open the store {store.label}: {error}".strip()) from None
