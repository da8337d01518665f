"""The SQLite files the tracker makes: private to their owner, never the store's own, and
quick to bind values into."""

from __future__ import annotations

import os
import sqlite3
from functools import cache
from pathlib import Path
from typing import Protocol

from events.errors import InvalidInput


class StoreFiles(Protocol):
    """What the read side needs to know of a store: where it is, and where its read models
    live unless told otherwise (tracker.config.Store is one)."""

    @property
    def location(self) -> str: ...

    @property
    def default_views(self) -> Path: ...


def refuse_unless_regular(path: Path, what: str) -> None:
    """InvalidInput if something other than a regular file is there: a folder, a FIFO (whose
    reading would block), a device. Nothing there is fine."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise InvalidInput(f"{what} {path} cannot be reached: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InvalidInput(f"{what} {path} is a folder: name a file")
    if not stat.S_ISREG(mode):
        raise InvalidInput(f"{what} {path} is not a regular file: name a file")


def refuse_overwriting(target: Path, *protected: Path) -> None:
    """InvalidInput if writing ``target`` would overwrite one of these SQLite files or their
    journals (an export or a report given the store's own name)."""
    suffixes = ("", "-wal", "-shm", "-journal")
    for kept in protected:
        if any(same_file(target, Path(f"{kept}{suffix}")) for suffix in suffixes):
            raise InvalidInput(f"{target} would overwrite {kept}: name another file")


def make_private(path: Path) -> None:
    """Create the file (and its folder) readable by its owner only, if it is not there yet."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links too, when it exists)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def refuse_store_as_views(location: str, views: Path) -> None:
    """InvalidInput if the read-model file or its journal would be the SQLite store or one of its own files."""
    if location.startswith(("postgresql://", "postgres://")):
        return
    suffixes = ("", "-wal", "-shm", "-journal")
    if any(same_file(Path(f"{views}{a}"), Path(location + b)) for a in suffixes for b in suffixes):
        raise InvalidInput(f"the read-model file {views} would overwrite the event store {location}:"
                           " name a file of its own with --views")


@cache
def bind_quickly() -> None:
    """Let sqlite3 bind NULLs and bytes without a detour through an error.

    It binds only str, int, float and bytearray directly; for anything else it looks in its
    adapter registry and, finding nothing, asks its protocol type for ``__adapt__``, which
    formats an AttributeError only to drop it: 2,000 instructions per value, 7.9% of what a
    rebuild spends writing its tables (a NULL in most rows) and 0.8% of an import (each
    stored event's bytes). An adapter found at once skips all that."""
    for kind in (type(None), bytes):
        sqlite3.register_adapter(kind, lambda value: value)
