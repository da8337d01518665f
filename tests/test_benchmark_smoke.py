"""The benchmark's smoke run: every workload and its baseline still run (ratios are not judged here)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--json", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads(out.read_text())["rows"]


def starting(rows, words):
    (row,) = [row for row in rows if row["workload"].startswith(words)]
    return row


def test_the_benchmark_runs_every_workload_beside_its_baseline(smoke_run):
    result, rows = smoke_run
    assert len(rows) == 10
    for row in rows:
        assert row["tracker"] > 0 and row["baseline"] > 0 and row["ratio"] > 0, row
        assert "failed" not in row, row
    assert "tracker benchmark" in result.stdout


def test_the_benchmark_reports_the_figures_each_target_of_the_scale_issue_is_judged_on(smoke_run):
    result, rows = smoke_run
    rebuild = starting(rows, "tracker rebuild")
    assert len(rebuild["runs_ratios"]) == 5
    assert rebuild["met"] == (rebuild["ratio"] <= 2 and max(rebuild["runs_ratios"]) <= 2)
    catch_up = starting(rows, "catch up after 200 new events")
    assert catch_up["pages_per_fact"] > 0 and catch_up["target"] == 6
    import_memory = starting(rows, "peak memory of tracker import")
    assert import_memory["peak_mib"] == round(import_memory["tracker"], 1) and import_memory["ceiling_mib"] == 500
    assert starting(rows, "late fact on a long commitment")["baseline_is"] == "the same fact dated after all others"
    assert starting(rows, "tracker import ")["target"] == 5
    assert "written a fact" in result.stdout and "under 500 MiB" in result.stdout and "worst run" in result.stdout
