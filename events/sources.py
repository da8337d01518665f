"""Several sources for one fact: another source citing it, a source that reports it
otherwise (a conflicting claim, kept beside it), and the analyst settling that claim.

Like corrections, these go in the stream of the fact they name and are not steps of its
life: the fold counts their sources and open claims (``events.rules``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from events.base import Fact, Identifier, LongText, Source, SourceList
from events.commitments import EventCorrected, EventRetracted, no_identity_changes


class SourceCited(Fact):
    """Another source reports a recorded fact as it is recorded: it corroborates it."""

    stream_kind: ClassVar[str] = "any"
    cites: Identifier = Field(description="Event id of the recorded fact this source reports")
    source: Source | SourceList = Field(description="The source that reports it (one, or a list)")

    def stream_key(self) -> str:
        raise LookupError("a citation belongs to the stream of the fact it cites")

    def summary(self) -> str:
        return f"{self.cites} also reported by {'; '.join(s.label() for s in self.sources)}"


class ClaimConflicted(Fact):
    """A source reports a recorded fact otherwise (another date, another count): its claim
    is kept beside the fact, which stands until the claim is settled."""

    stream_kind: ClassVar[str] = "any"
    conflicts_with: Identifier = Field(description="Event id of the recorded fact the claim contradicts")
    claims: dict[str, Any] = Field(
        min_length=1, max_length=40,
        description="What this source says instead: field -> value, as a correction's changes",
    )
    source: Source | SourceList = Field(description="The source that makes the claim")

    @field_validator("claims")
    @classmethod
    def _no_identity_claims(cls, value: dict[str, Any]) -> dict[str, Any]:
        return no_identity_changes(value)

    def stream_key(self) -> str:
        raise LookupError("a conflicting claim belongs to the stream of the fact it contradicts")

    def summary(self) -> str:
        said = ", ".join(f"{field} {value}" for field, value in sorted(self.claims.items()))
        return f"conflicting claim on {self.conflicts_with}: {said}"


Outcome = Literal["recorded fact stands", "claim accepted"]


class ClaimSettled(Fact):
    """The analyst settles a conflicting claim: the recorded fact stands, or the claim is
    accepted (its values then replace the recorded ones, as a correction would)."""

    stream_kind: ClassVar[str] = "any"
    settles: Identifier = Field(description="Event id of the ClaimConflicted settled")
    outcome: Outcome = Field(description="recorded fact stands, or claim accepted")
    reason: LongText = Field(description="Why, in a sentence")

    def stream_key(self) -> str:
        raise LookupError("a settlement belongs to the stream of the claim it settles")

    def summary(self) -> str:
        return f"claim {self.settles} settled: {self.outcome} ({self.reason})"


# What each fact that names another fact calls it; such a fact goes in its target's stream.
TARGET_FIELDS: dict[type[Fact], str] = {
    EventCorrected: "corrects",
    EventRetracted: "retracts",
    SourceCited: "cites",
    ClaimConflicted: "conflicts_with",
    ClaimSettled: "settles",
}
ANNOTATIONS = (SourceCited, ClaimConflicted, ClaimSettled)


def target_of(fact: Fact) -> str | None:
    """The event id of the fact this one names (a correction's, a citation's...), else None."""
    name = TARGET_FIELDS.get(type(fact))
    return None if name is None else fact.__dict__[name]
