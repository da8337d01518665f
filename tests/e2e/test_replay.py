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
        f"{visa}-registered": f"corrected by {visa}-lifecycle",  # the demo's own correction
        f"{visa}-signed": "corrected by fix-signing", "first-visas": "retracted by drop-first-visas"}
    assert json.loads(tracker_cli("history", visa, "--json", "--known-at", NOW_AND_LATER)) == live
    as_of = json.loads(tracker_cli("history", visa, "--json", "--as-of", "2023-12-31"))
    assert [(r["event_id"], r["standing"]) for r in as_of] == [
        (f"{visa}-registered", f"corrected by {visa}-lifecycle"), (f"{visa}-signed", "corrected by fix-signing"),
        (f"{visa}-lifecycle", "standing"), ("first-visas", "retracted by drop-first-visas")]


@pytest.mark.parametrize("command", ["parties", "meetings", "indicators"])
def test_a_listing_as_known_now_lists_what_the_read_models_list(tracker_cli, command):
    live = json.loads(tracker_cli(command, "--json"))
    assert live and json.loads(tracker_cli(command, "--json", "--known-at", NOW_AND_LATER)) == live


def test_parties_as_of_a_day_before_anything_was_signed_counts_nothing(tracker_cli):
    assert json.loads(tracker_cli("parties", "--json", "--as-of", "2020-01-01")) == []
    assert tracker_cli("parties", "--as-of", "2020-01-01").strip() == "Parties as of 2020-01-01: nothing to show"


def test_parties_as_of_a_day_counts_what_was_signed_and_in_force_by_then(tracker_cli, tmp_path):
    visa = "xian-2023-visa-exemption"
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"type": "VisaExemptionEnteredIntoForce", "event_id": "visa-in-force",
                                 "commitment_id": visa, "occurred_on": "2023-11-10", "stay_days": 30,
                                 "source": {"title": "MFA"}}) + "\n")
    before_import = tracker_cli("status", "--with-basis", "--json")  # a moment before the fact was recorded
    moment = json.loads(before_import)["basis"]["known_at"]
    tracker_cli("import", str(later))
    kz = {(r["country"], r["institution"]): r for r in json.loads(tracker_cli("parties", "--json"))}[("KZ", "")]
    assert kz["in_force"] == 1
    for replayed in (["--as-of", "2023-11-09"], ["--known-at", moment]):
        then = {(r["country"], r["institution"]): r for r in json.loads(tracker_cli("parties", "--json", *replayed))}
        assert then[("KZ", "")] == {**kz, "in_force": 0, "completed": kz["completed"] - 1}  # a regime: in effect
    assert {(r["country"], r["institution"]): r for r in json.loads(
        tracker_cli("parties", "--json", "--as-of", "2023-11-10"))}[("KZ", "")] == kz


def test_meetings_as_of_a_day_show_the_meetings_held_and_documents_identified_by_then(tracker_cli):
    # The mission ran 15-17 May: on the 16th it had possibly been held, not certainly.
    assert json.loads(tracker_cli("meetings", "--json", "--as-of", "2023-05-16")) == []
    mission = {m["meeting_id"]: m for m in json.loads(tracker_cli("meetings", "--json", "--as-of", "2023-05-17"))}[
        "xian-2023-trade-mission"]
    assert mission["identified"] == 0
    visit = {m["meeting_id"]: m for m in json.loads(tracker_cli("meetings", "--json", "--as-of", "2023-05-17"))}[
        "xian-2023-state-visit"]
    assert visit["summary"] == "22 reported, 8 identified"


def test_indicators_as_of_a_day_show_only_the_figures_reported_by_then(tracker_cli):
    assert json.loads(tracker_cli("indicators", "--json", "--as-of", "2023-01-01")) == []
    assert len(json.loads(tracker_cli("indicators", "--json"))) == 2
