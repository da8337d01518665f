"""Fixtures shared by every layer: a private data folder, and real stores of both kinds."""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import socket
import subprocess
from pathlib import Path
from uuid import uuid4

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("TRACKER_TEST_POSTGRES")
_started: dict[str, str] = {}  # the throwaway server this run started: its folder and URL


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own per-user data folder and no stray settings."""
    home = tmp_path / "home"
    monkeypatch.setenv("TRACKER_HOME", str(home))
    for name in ("TRACKER_DB", "TRACKER_VIEWS", "TRACKER_CIPHER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return home


def needs(module: str, extra: str) -> None:
    """Skip a test whose optional extra is not installed (CI installs every extra: there it fails)."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install the {extra!r} extra: no module {module!r}")
        pytest.skip(f"needs the {extra!r} extra: pip install -e '.[{extra}]'")


def _throwaway_postgres() -> str | None:
    """A PostgreSQL server of this test run's own, when the machine has PostgreSQL's programs;
    stopped when the run ends (``pytest_unconfigure``)."""
    if "url" not in _started and glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        folder = f"/tmp/tracker-pytest-postgres-{os.getpid()}"
        made = subprocess.run([str(ROOT / "scripts" / "test-postgres"), "start"], capture_output=True, text=True,
                              env={**os.environ, "TRACKER_PG_DIR": folder, "TRACKER_PG_PORT": str(port)})
        _started.update(folder=folder, port=str(port))
        _started["url"] = made.stdout.strip() if made.returncode == 0 else ""
    return _started.get("url") or None


def pytest_unconfigure(config: pytest.Config) -> None:
    if _started.get("url"):
        subprocess.run([str(ROOT / "scripts" / "test-postgres"), "stop"], capture_output=True,
                       env={**os.environ, "TRACKER_PG_DIR": _started["folder"], "TRACKER_PG_PORT": _started["port"]})
    if _started.get("folder"):
        shutil.rmtree(_started["folder"], ignore_errors=True)


def postgres_url() -> str:
    """A fresh schema on TRACKER_TEST_POSTGRES, else on a throwaway server this run starts."""
    server = POSTGRES or _throwaway_postgres()
    if not server:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: TRACKER_TEST_POSTGRES is not set and no server could start")
        pytest.skip("no PostgreSQL server: apt-get install postgresql, or set TRACKER_TEST_POSTGRES")
    return f"{server}?schema=t_{uuid4().hex[:16]}"


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
