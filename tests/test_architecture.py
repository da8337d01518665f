"""The layers hold: the application and CLI over the read side over the domain."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import needs

ROOT = Path(__file__).resolve().parents[1]


def test_imports_point_one_way_from_the_cli_down_to_the_domain():
    needs("importlinter", "test")
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_reading_the_board_loads_no_event_model():
    """The read path stays quick: it imports neither pydantic nor the event models."""
    probe = ("import sys, tracker.cli.queries, projections.read, projections.schema;"
             " print(sorted(m for m in sys.modules if m == 'pydantic' or m.startswith('events.')))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['events.errors', 'events.rules_version']"
