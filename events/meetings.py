"""Events about meetings: where documents are signed, and how many each source says."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from events.base import Fact, Identifier, LongText, Party, Text
from events.commitments import Money, worth


class MeetingEvent(Fact):
    stream_kind: ClassVar[str] = "meeting"
    meeting_id: Identifier

    def stream_key(self) -> str:
        return f"meeting:{self.meeting_id}"


class MeetingHeld(MeetingEvent):
    """A meeting took place where documents may be signed."""

    title: Text
    place: Text | None = None
    parties: list[Party] = Field(min_length=1, max_length=50)

    def summary(self) -> str:
        return f"meeting: {self.title}"


class DocumentsReported(MeetingEvent):
    """A source's count of documents signed at a meeting; other counts are kept beside it."""

    count: int = Field(ge=0, le=100000)
    unnamed: LongText | None = Field(
        default=None, description="What the source says of documents it does not name"
    )
    value: Money | None = Field(
        default=None, description="What the source says the documents are worth together"
    )

    def summary(self) -> str:
        return f"{self.count} documents reported signed{worth(self.value)}"
