"""--as-of and --known-at replay the facts themselves: replaying everything shows what the
read models show, row for row."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
NOW_AND_LATER = "2100-01-01T00:00:00"  # known at a moment after every recording: everything


@pytest.fixture
def tracker_cli(store_url, tmp_path):
    """Runs a command on a store holding the demo history, with read models of its own."""
    def run(*args: str):
        result = runner.invoke(app, ["--db", store_url, "--views", str(tmp_path / "views.db"), *args])
        assert result.exit_code == 0, result.stderr
        return result.stdout

    run("demo")
    return run


@pytest.mark.parametrize("filters", [[], ["--institution", "kz"], ["--institution", "GOVERNMENT"],
                                     ["--party", "CN"], ["--party", "cn", "--institution", "shymkent"],
                                     ["--sector", "transport"], ["--meeting", "xian-2023"], ["--overdue"]])
def test_the_board_as_known_now_lists_what_the_read_models_list_whatever_the_filter(tracker_cli, filters):
    live = json.loads(tracker_cli("status", "--json", *filters))
    assert json.loads(tracker_cli("status", "--json", "--known-at", NOW_AND_LATER, *filters)) == live


def test_an_institution_filter_matches_institutions_not_country_codes_with_or_without_known_at(tracker_cli):
    for replayed in ([], ["--known-at", NOW_AND_LATER], ["--as-of", "2024-01-01"]):
        assert json.loads(tracker_cli("status", "--json", "--institution", "kz", *replayed)) == []
        found = json.loads(tracker_cli("status", "--json", "--institution", "government", *replayed))
        assert len(found) == 5 and all("Government of" in r["parties"] for r in found)


def test_a_history_as_known_now_marks_corrected_and_retracted_facts_as_the_read_models_do(tracker_cli, tmp_path):
    visa = "xian-2023-visa-exemption"
    changes = tmp_path / "changes.jsonl"
    changes.write_text("\n".join(json.dumps(line) for line in [
        {"type": "MilestoneReached", "event_id": "first-visas", "commitment_id": visa, "occurred_on": "2023-12",
         "milestone": "first visa-free trips", "source": {"title": "MFA"}},
        {"type": "EventCorrected", "event_id": "fix-signing", "occurred_on": "2024-01-05",
         "corrects": f"{visa}-signed", "reason": "the place", "changes": {"note": "signed in Xian"}},
        {"type": "EventRetracted", "event_id": "drop-first-visas", "occurred_on": "2024-01-06",
         "retracts": "first-visas", "reason": "misreported"},
    ]) + "\n")
    tracker_cli("import", str(changes))
    live = json.loads(tracker_cli("history", visa, "--json"))
    assert {r["event_id"]: r["standing"] for r in live if r["standing"] != "standing"} == {
        f"{visa}-signed": "corrected by fix-signing", "first-visas": "retracted by drop-first-visas"}
    assert json.loads(tracker_cli("history", visa, "--json", "--known-at", NOW_AND_LATER)) == live
    as_of = json.loads(tracker_cli("history", visa, "--json", "--as-of", "2023-12-31"))
    assert [(r["event_id"], r["standing"]) for r in as_of] == [
        (f"{visa}-registered", "standing"), (f"{visa}-signed", "corrected by fix-signing"),
        ("first-visas", "retracted by drop-first-visas")]
