"""The benchmark's smoke run: every workload and its baseline still run (ratios are not judged here)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_every_workload_beside_its_baseline(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--json", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 8
    for row in rows:
        assert row["tracker"] > 0 and row["baseline"] > 0 and row["ratio"] > 0, row
    assert "tracker benchmark" in result.stdout
