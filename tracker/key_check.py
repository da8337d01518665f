"""Whether a key fits a store, with the standard library only: the read path checks it too.

The store's marker record (see tracker.keys) says whether it is encrypted and holds an HMAC
of a fixed label under its key. A read served from up-to-date read models never opens the
store through the event library, so it reads the marker of a SQLite store directly.
"""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote
from uuid import UUID

from events.errors import InvalidInput, StoreUnreadable

KEY_SIZES = (16, 24, 32)
MARKER_ID = UUID("7a6b0e52-58f1-4c55-9d43-2f1d6a0c4b11")
CHECK_LABEL = b"tracker store key check, version 1"


class WrongKey(StoreUnreadable):
    """The key given (or its absence) does not fit the store: nothing read or written."""

    exit_code = 6


def valid_key(variable: str) -> str | None:
    """The key in this environment variable, if set; InvalidInput if it cannot be a key."""
    value = os.environ.get(variable)
    if not value:
        return None
    import binascii  # here: a read of the board with no key set needs neither
    from base64 import b64decode

    try:
        size = len(b64decode(value.strip(), validate=True))
    except (binascii.Error, ValueError):
        size = 0
    if size not in KEY_SIZES:
        raise InvalidInput(f"{variable} is not a valid key: make one with 'tracker keygen'")
    return value.strip()


def check_value(key: bytes) -> str:
    """What a store's marker keeps of its key: an HMAC of a fixed label under it."""
    import hashlib  # here: loading OpenSSL would cost every read of the board 4 ms
    import hmac

    return hmac.new(key, CHECK_LABEL, hashlib.sha256).hexdigest()


def judge(encrypted: bool, fits: bool, keyed: bool, variable: str) -> None:
    """WrongKey unless a key (``keyed``) is given exactly when the store is encrypted, and fits."""
    if not encrypted and keyed:
        raise WrongKey(f"this store is not encrypted: unset {variable}"
                       " (or copy it encrypted with 'tracker rotate-key')")
    if encrypted and not keyed:
        raise WrongKey(f"this store is encrypted: set {variable} to its key")
    if not fits:
        raise WrongKey(f"{variable} is not this store's key")


def check_sqlite_store(location: str, variable: str) -> None:
    """WrongKey (or InvalidInput for a malformed key) unless the key in ``variable`` fits the
    SQLite store at ``location``, judged by its marker; a store without one is let through
    (it is judged, and marked, when it is next opened to be written)."""
    key = valid_key(variable)
    try:
        db = sqlite3.connect(f"file:{quote(location)}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT state FROM stored_events WHERE originator_id = ? LIMIT 1",
                             [MARKER_ID.hex]).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return
    if row is None:
        return
    import json

    marker = json.loads(row[0])
    from base64 import b64decode

    fits = not marker["encrypted"] or (key is not None and check_value(b64decode(key)) == marker["check"])
    judge(marker["encrypted"], fits, key is not None, variable)
