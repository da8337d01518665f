"""The basis of an answer: what it was computed from, so that it can be computed again
exactly. The world date (``as_of``, or the day it was made when none was given, which
judges what is overdue), the recording moment (``known_at``: facts recorded later are
left out) and the store's position (its last notification id then: facts stored after
it are left out, even with an older ``recorded_at``, as an import can give them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from events import Fact
from events.errors import InvalidInput

META_NAME = "tracker-basis"
_META = re.compile(r"<meta name=\"tracker-basis\" content='([^']*)'>")


@dataclass(frozen=True)
class Basis:
    as_of: str | None  # the world date asked for, if any
    today: str  # the day what is overdue was judged on: as_of, else the day it was made
    known_at: str  # ISO timestamp
    position: int  # the store's last notification id
    since: str | None = None  # where a list of changes starts (ISO timestamp), if it has one

    @property
    def as_of_date(self) -> date | None:
        return date.fromisoformat(self.as_of) if self.as_of else None

    @property
    def today_date(self) -> date:
        return date.fromisoformat(self.today)

    @property
    def known_at_moment(self) -> datetime:
        return datetime.fromisoformat(self.known_at)

    @property
    def since_moment(self) -> datetime | None:
        return datetime.fromisoformat(self.since) if self.since else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def current_basis(app: Any, as_of: date | None, known_at: datetime | None, since: datetime | None = None) -> Basis:
    """The basis of an answer made now from ``app``'s store: ``known_at`` defaults to now."""
    moment = known_at or datetime.now(timezone.utc)
    return Basis(
        as_of=as_of.isoformat() if as_of else None,
        today=(as_of or date.today()).isoformat(),
        known_at=moment.isoformat(),
        position=app.recorder.max_notification_id() or 0,
        since=since.isoformat() if since else None,
    )


def facts_on(app: Any, basis: Basis) -> Iterator[tuple[int, Fact]]:
    """The store's facts on this basis, in recording order: stored by its position and
    recorded by its moment."""
    moment = basis.known_at_moment
    for notification_id, fact in app.facts():
        if notification_id > basis.position:
            return
        if fact.recorded_at is None or fact.recorded_at <= moment:
            yield notification_id, fact


def read_basis(file: Path) -> Basis:
    """The basis in a JSON file (as ``--with-basis`` prints it) or embedded in a report."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read the basis in {file}: {getattr(error, 'strerror', None) or error}") from None
    found = _META.search(text)
    try:
        data = json.loads(_unescape(found.group(1)) if found else text)
        if isinstance(data, dict) and "basis" in data and "known_at" not in data:
            data = data["basis"]
        basis = Basis(**data)
        basis.today_date, basis.known_at_moment, basis.as_of_date, basis.since_moment  # noqa: B018 - checked here
        if not isinstance(basis.position, int) or basis.position < 0 or basis.known_at_moment.tzinfo is None:
            raise ValueError("position or known_at")
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(f"{file} holds no basis (a report made by 'tracker report', or the"
                           " JSON object of a basis)") from None
    return basis


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
