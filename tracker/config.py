"""Where the store and the read models live. Imports nothing heavy: the read path uses it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from projections.files import make_private, refuse_store_as_views

DB_VARIABLE = "TRACKER_DB"
VIEWS_VARIABLE = "TRACKER_VIEWS"
HOME_VARIABLE = "TRACKER_HOME"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
KEY_VARIABLE = "TRACKER_CIPHER_KEY"
# Seconds a command waits for another process writing to the store (or the read models)
# before it gives up, having written nothing.
SQLITE_LOCK_TIMEOUT = 60
POSTGRES_LOCK_TIMEOUT = 30


def data_dir() -> Path:
    """Per-user data folder: $TRACKER_HOME, else $XDG_DATA_HOME/tracker, else ~/.local/share/tracker."""
    if os.environ.get(HOME_VARIABLE):
        return Path(os.environ[HOME_VARIABLE])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tracker"


@dataclass(frozen=True)
class Store:
    """An event store (a SQLite file or a PostgreSQL URL) and its read-model file."""

    location: str
    views: Path
    # The environment variable that holds its encryption key (another for a copy's new key).
    key_variable: str = KEY_VARIABLE

    @property
    def default_views(self) -> Path:
        """Where its read models live unless --views or $TRACKER_VIEWS says otherwise."""
        return default_views(self.location)

    @property
    def is_postgres(self) -> bool:
        return self.location.startswith(("postgresql://", "postgres://"))

    @property
    def postgres_schema(self) -> str:
        """The schema named by ``?schema=`` in the URL, else public."""
        values = parse_qs(urlsplit(self.location).query).get("schema", [])
        return values[0] if values else "public"

    @property
    def label(self) -> str:
        if self.is_postgres:
            parts = urlsplit(self.location)
            schema = "" if self.postgres_schema == "public" else f"?schema={self.postgres_schema}"
            return f"postgresql://{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}{schema}"
        return self.location

    def environment(self) -> dict[str, str]:
        """eventsourcing's settings for this store."""
        from tracker.key_check import valid_key

        key = valid_key(self.key_variable)  # first: a bad key creates nothing
        env: dict[str, str] = {}
        if self.is_postgres:
            parts = urlsplit(self.location)
            env.update(
                PERSISTENCE_MODULE="tracker.postgres:PostgresFactory",
                POSTGRES_DBNAME=parts.path.lstrip("/") or "tracker",
                POSTGRES_HOST=parts.hostname or "localhost",
                POSTGRES_PORT=str(parts.port or 5432),
                POSTGRES_USER=unquote(parts.username or os.environ.get("USER", "postgres")),
                POSTGRES_PASSWORD=unquote(parts.password or ""),
                POSTGRES_POOL_SIZE="2",
                POSTGRES_MAX_OVERFLOW="4",
                POSTGRES_LOCK_TIMEOUT=str(POSTGRES_LOCK_TIMEOUT),
                POSTGRES_CONNECT_TIMEOUT="5",
                POSTGRES_SCHEMA=self.postgres_schema,
            )
        else:
            from projections.views_file import refuse_as_store

            refuse_as_store(self.location)
            make_private(Path(self.location))  # a folder that cannot be made: see cli.common.opened
            env.update(
                PERSISTENCE_MODULE="tracker.persistence:SQLiteFactory",
                SQLITE_DBNAME=self.location,
                SQLITE_LOCK_TIMEOUT=str(SQLITE_LOCK_TIMEOUT),
            )
        if key:
            env.update(CIPHER_TOPIC="eventsourcing.cipher:AESCipher", CIPHER_KEY=key)
        return env


def resolve_store(db: str | None = None, views: str | None = None) -> Store:
    """The store named by --db, else $TRACKER_DB, else the per-user default."""
    if db is not None and not db.strip():
        from events.errors import InvalidInput

        raise InvalidInput("--db is empty: name a SQLite file or a postgresql:// URL")
    location = db or os.environ.get(DB_VARIABLE) or str(data_dir() / "tracker.db")
    if location.startswith("file:") or ("://" in location and not location.startswith(POSTGRES_SCHEMES)):
        from events.errors import InvalidInput

        raise InvalidInput(f"--db {location!r}: give a SQLite file's path or a postgresql:// URL")
    views = views or os.environ.get(VIEWS_VARIABLE)
    views_path = Path(views) if views else default_views(location)
    refuse_store_as_views(location, views_path)
    return Store(location=location, views=views_path)


def default_views(location: str) -> Path:
    """Where the read models of a store live unless --views or $TRACKER_VIEWS says otherwise."""
    if location.startswith(("postgresql://", "postgres://")):
        import hashlib  # here: loading OpenSSL costs every command 4 ms

        tag = hashlib.sha256(location.encode()).hexdigest()[:12]
        return data_dir() / f"views-{tag}.db"
    path = Path(location)
    return path.with_name(path.stem + ".views.db")
