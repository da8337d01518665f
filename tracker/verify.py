"""Tamper evidence: check every stored event against its seal and its claim.

Each fact is sealed, when recorded, with a hash of its content, its place in its stream
and the seal before it; each event id is claimed by a record that names its stream and
content digest. Editing, deleting or reordering stored rows outside the tracker breaks a
seal, leaves a gap, or leaves a claim without its event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from events import FACT_TOPICS, Fact
from events.aggregates import EventIdClaimed, claim_id, digest, seal
from events.validation import one_line

if TYPE_CHECKING:
    from tracker.application import Tracker


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(app: Tracker, page: int = 1000) -> Report:
    report = Report()
    last: dict[UUID, tuple[int, str | None, str]] = {}  # each stream's last version, seal, event id
    claims: dict[UUID, EventIdClaimed] = {}
    expected: dict[UUID, tuple[str, str]] = {}  # the claim each fact should have: its name, digest
    after = 0
    while True:
        notifications = app.recorder.select_notifications(start=after, limit=page, inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            where = f"notification {n.id}"
            try:
                event = app.mapper.to_domain_event(n)
            except Exception as error:  # noqa: BLE001 - any decoding failure is tampering
                report.problems.append(f"{where}: unreadable ({one_line(error)})")
                continue
            match event:
                case EventIdClaimed(originator_id=claimed):
                    claims[claimed] = event
                    continue
                case Fact() if n.topic in FACT_TOPICS:
                    pass
                case _:
                    continue
            report.events += 1
            name = f"{where}: event {event.event_id!r} ({event.stream_key() if event.stream_kind != 'any' else 'correction'} v{event.originator_version})"
            version, previous, _ = last.get(event.originator_id, (0, None, ""))
            if event.originator_version != version + 1:
                report.problems.append(
                    f"{name}: expected version {version + 1} of its stream here; events are missing or reordered"
                )
            if event.seal is None:
                report.unsealed += 1  # recorded before sealing: nothing to check against
                last[event.originator_id] = (event.originator_version, None, event.event_id)
                continue
            if event.seal != seal(previous, event):
                report.problems.append(f"{name}: content or order altered (seal does not match)")
            last[event.originator_id] = (event.originator_version, event.seal, event.event_id)
            expected[claim_id(event.event_id)] = (name, digest(event))
        after = notifications[-1].id
    for cid, (name, content) in expected.items():
        claim = claims.get(cid)
        if claim is None:
            report.problems.append(f"{name}: its event id claim is missing")
        elif claim.digest != content:
            report.problems.append(f"{name}: content differs from what was claimed when recorded")
    for cid, claim in claims.items():
        if cid not in expected:
            report.problems.append(
                f"event {claim.event_id or '?'!r} in {claim.stream} was claimed but is missing (deleted)"
            )
    report.streams = len(last)
    return report
