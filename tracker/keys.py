"""Which key a store takes, so that no command mixes keys (or clear text) in one store.

A store says whether it is encrypted, and which key it takes, in a marker record kept
beside its events (one fixed stream, its own topic, stored in clear text, written with
the store's first save): an HMAC of a fixed label under the key, never the key itself.
A store written before markers is judged by its first record, and marked with its next
save. Every command checks the key when it opens the store, and a save checks again
while the store is not marked yet (another writer may have marked it first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

from events.errors import InvalidInput, StoreUnreadable
from tracker.key_check import MARKER_ID, check_value, judge

if TYPE_CHECKING:
    from tracker.application import Tracker

NEW_KEY_VARIABLE = "TRACKER_NEW_CIPHER_KEY"


class StoreKeyMarked(BaseModel):
    """The marker: whether the store is encrypted, and the check value of its key."""

    model_config = ConfigDict(frozen=True)
    originator_id: UUID = MARKER_ID
    originator_version: int = 1
    encrypted: bool
    check: str | None = None


MARKER_TOPIC = f"{StoreKeyMarked.__module__}:{StoreKeyMarked.__qualname__}"


class KeyedCipher(Protocol):
    """A store's cipher, which keeps its key (eventsourcing's AESCipher, as configured)."""

    key: bytes

    def encrypt(self, plaintext: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes) -> bytes: ...


def key_check(cipher: KeyedCipher) -> str:
    return check_value(cipher.key)


def marker(cipher: KeyedCipher | None) -> StoreKeyMarked:
    """The marker of a store written with this cipher (None: in clear text)."""
    return StoreKeyMarked(encrypted=True, check=key_check(cipher)) if cipher else StoreKeyMarked(encrypted=False)


def check_key(app: Tracker, variable: str) -> bool:
    """Raise WrongKey unless the application's key (or none) is the store's; return
    whether the store is marked (an empty or unmarked store takes the key it is written with)."""
    cipher = app.cipher
    found = app.recorder.select_events(MARKER_ID, limit=1)
    if found:
        state = orjson.loads(found[0].state)
        encrypted, fits = state["encrypted"], not state["encrypted"] or (cipher and key_check(cipher) == state["check"])
    else:
        first = app.recorder.select_notifications(start=None, limit=1)
        if not first:
            return False
        encrypted, fits = _judged_by(first[0].state, cipher)
    judge(encrypted, bool(fits), bool(cipher), variable)
    return bool(found)


def _judged_by(state: bytes, cipher: KeyedCipher | None) -> tuple[bool, bool]:
    """Whether a store is encrypted, and under this cipher, from one of its records."""
    if cipher:
        try:
            orjson.loads(cipher.decrypt(state))
            return True, True
        except (ValueError, orjson.JSONDecodeError):
            pass
    try:
        orjson.loads(state)
        return False, not cipher
    except orjson.JSONDecodeError:
        return True, False


def copy_under_new_key(source: Tracker, target: Tracker) -> int:
    """Copy every record of ``source`` into the empty store of ``target``, encrypted for
    ``target``'s key (or in clear text), in one transaction; returns how many records."""
    from eventsourcing.persistence import StoredEvent

    if target.recorder.max_notification_id() is not None:
        raise InvalidInput(f"{target.store.label} is not empty: rotate-key copies into a new, empty store")
    old, new = source.cipher, target.cipher
    records = []
    after = 0
    while page := source.recorder.select_notifications(start=after, limit=1000, inclusive_of_start=False):
        for n in page:
            if n.topic == MARKER_TOPIC:
                continue
            state = n.state
            if old:
                try:
                    state = old.decrypt(state)
                except ValueError:
                    raise StoreUnreadable(f"notification {n.id} does not decrypt under"
                                          f" {source.store.key_variable}: nothing was copied") from None
            records.append(StoredEvent(n.originator_id, n.originator_version, n.topic,
                                       new.encrypt(state) if new else state))
        after = page[-1].id
    target.recorder.insert_events([*records, target.mapper.to_stored_event(marker(new))])
    return len(records)
