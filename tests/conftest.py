"""Fixtures shared by every layer: a private data folder, and real stores of both kinds."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import pytest

POSTGRES = os.environ.get("TRACKER_TEST_POSTGRES")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own per-user data folder and no stray settings."""
    home = tmp_path / "home"
    monkeypatch.setenv("TRACKER_HOME", str(home))
    for name in ("TRACKER_DB", "TRACKER_VIEWS", "TRACKER_CIPHER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return home


def postgres_url() -> str:
    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: TRACKER_TEST_POSTGRES is not set")
        pytest.skip("no PostgreSQL server: run scripts/test-postgres start and set TRACKER_TEST_POSTGRES")
    return f"{POSTGRES}?schema=t_{uuid4().hex[:16]}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty event store: a SQLite file, or a schema of its own on a real server."""
    if request.param == "sqlite":
        return str(tmp_path / "events.db")
    return postgres_url()


@pytest.fixture
def tracker(store_url: str, tmp_path: Path):
    from tracker.application import Tracker
    from tracker.config import resolve_store

    app = Tracker(resolve_store(store_url, str(tmp_path / "views.db")))
    yield app
    app.close()
