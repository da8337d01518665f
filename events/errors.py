"""The tracker's named errors. Each carries one line a user can act on."""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error caused by what a user asked or gave; exits with ``exit_code``."""

    exit_code = 1


class InvalidInput(TrackerError):
    """Input that does not parse or validate (exit 2)."""

    exit_code = 2


class NotHappenedYet(InvalidInput):
    """A fact dated after the moment it is recorded: what is announced is recorded as expected."""


class UnknownCommitment(TrackerError):
    exit_code = 3


class UnknownMeeting(TrackerError):
    exit_code = 3


class UnknownEvent(TrackerError):
    exit_code = 3


class DuplicateEventId(TrackerError):
    exit_code = 4


class AlreadyRegistered(TrackerError):
    exit_code = 4


class ImpossibleTransition(TrackerError):
    """A fact that contradicts what is already known, in world order."""

    exit_code = 5


class StoreUnavailable(TrackerError):
    exit_code = 6


class StoreUnreadable(TrackerError):
    """Stored bytes that do not decode: a wrong or missing key, or damage."""

    exit_code = 6


class ConcurrentChange(TrackerError):
    """Another writer kept changing the same stream; nothing was written."""

    exit_code = 7


class SaveOutcomeUnknown(StoreUnavailable):
    """The store went away while saving, and could not be asked whether the save landed."""

    def __init__(self, cause: str):
        super().__init__(f"{cause}: it may or may not be recorded; recording it again is safe"
                         " (what is recorded is skipped)")
        self.cause = cause
