"""Tamper evidence: check every stored event against its seal and its claim.

Each fact is sealed, when recorded, with a hash of its content, its place in its stream
and the seal before it; each event id is claimed by a record that names its stream and
content digest. Editing, deleting or reordering stored rows outside the tracker breaks a
seal, leaves a gap, or leaves a claim without its event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.validation import one_line
from events import FACT_TOPICS
from events.aggregates import EventIdClaimed, claim_id, digest, seal


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(app: Any, page: int = 1000) -> Report:
    report = Report()
    last: dict[Any, tuple[int, str | None, str]] = {}
    claims: dict[Any, EventIdClaimed] = {}
    expected: dict[Any, tuple[str, str]] = {}
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
            if isinstance(event, EventIdClaimed):
                claims[event.originator_id] = event
                continue
            if n.topic not in FACT_TOPICS:
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
