"""Nothing recorded is stranded: a store written by 0.5.2 opens with today's code (its facts
upcast as they are read, its snapshot too), and an export written by 0.5.2 imports.

The fixtures were written by 0.5.2 itself: tests/fixtures/make_v05_store.py says how."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from events import EVENT_TYPES
from tracker.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parent.parent / "fixtures"
OLD_STORE, OLD_EXPORT = FIXTURES / "v05-store.db", FIXTURES / "v05-export.jsonl"
TYPES_OF_0_5 = {  # every event type 0.5.2 had; the fixtures hold each one
    "MeetingHeld", "DocumentsReported", "CommitmentRegistered", "DocumentSigned", "DomesticProcedureCompleted",
    "ProvisionallyApplied", "EnteredIntoForce", "VisaExemptionEnteredIntoForce", "SisterCityTieEstablished",
    "UniversityBranchOpened", "MilestoneReached", "ImplementationStatusChanged", "Suspended", "Resumed",
    "Terminated", "Withdrawn", "Expired", "Superseded", "Lapsed", "CommercialContractsSigned",
    "TradeFigureReported", "Assessed", "EventCorrected", "EventRetracted"}


def run(store: str, views: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--db", store, "--views", str(views), *args])
    assert result.exit_code == code, result.stderr
    return result.stdout


def old_store(tmp_path: Path) -> str:
    copy = tmp_path / "written-by-0.5.2.db"
    shutil.copy(OLD_STORE, copy)
    return str(copy)


def board(store: str, views: Path) -> dict[str, dict]:
    return {row["commitment_id"]: row for row in json.loads(run(store, views, "status", "--json"))}


def test_the_fixtures_hold_every_event_type_of_0_5(tmp_path):
    exported = {json.loads(text)["type"] for text in OLD_EXPORT.read_text().splitlines()}
    assert exported == TYPES_OF_0_5 and TYPES_OF_0_5 <= set(EVENT_TYPES)


def test_a_store_written_by_0_5_opens_and_shows_its_board_and_histories(tmp_path):
    store, views = old_store(tmp_path), tmp_path / "views.db"
    rows = board(store, views)
    assert len(rows) == 11
    assert rows["visa"]["legal_status"] == "in force" and rows["visa"]["legal_since"] == "2023-11-10"
    assert rows["road"]["legal_status"] == "terminated"
    assert rows["pipeline"]["last_change"] == "KZ withdrew"
    centres = {r["event_id"]: r["standing"] for r in json.loads(run(store, views, "history", "centres", "--json"))}
    assert centres["centres-wrong"] == "retracted by centres-wrong-retracted"
    railway = json.loads(run(store, views, "history", "railway", "--json"))  # read from 0.5.2's snapshot
    assert len(railway) == 206 and railway[-1]["event_id"] == "railway-km-205"
    assert json.loads(run(store, views, "meetings", "--json"))[0]["summary"] == "22 reported, 7 identified"


def test_a_store_written_by_0_5_verifies_intact(tmp_path):
    result = runner.invoke(app, ["--db", old_store(tmp_path), "--views", str(tmp_path / "v.db"), "verify"])
    assert result.exit_code == 0 and result.stderr.strip() == "verified 245 events in 13 streams: intact"


def test_a_store_written_by_0_5_takes_new_facts_and_stays_intact(tmp_path):
    store, views = old_store(tmp_path), tmp_path / "views.db"
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"type": "MilestoneReached", "event_id": "railway-opened", "commitment_id": "railway",
                               "occurred_on": "2024-12-01", "milestone": "crossing opened",
                               "source": {"title": "Kazakhstan Temir Zholy"}}) + "\n")
    run(store, views, "import", str(new))
    run(store, views, "record", "milestone-reached", "--commitment-id", "visa", "--occurred-on", "2024-01-01",
        "--milestone", "a million visa-free trips", "--source-title", "Border service")
    assert board(store, views)["railway"]["last_change"] == "milestone: crossing opened"
    assert len(json.loads(run(store, views, "history", "visa", "--json"))) == 7
    result = runner.invoke(app, ["--db", store, "--views", str(views), "verify"])
    assert result.exit_code == 0 and result.stderr.strip() == "verified 247 events in 13 streams: intact"


def test_an_export_written_by_0_5_imports_and_shows_what_the_store_it_came_from_shows(store_url, tmp_path):
    views = tmp_path / "views.db"
    result = runner.invoke(app, ["--db", store_url, "--views", str(views), "import", str(OLD_EXPORT)])
    assert result.exit_code == 0 and result.stderr.strip() == "imported 245 new events, 0 already recorded"
    assert board(store_url, views) == board(old_store(tmp_path), tmp_path / "old-views.db")
    assert run(store_url, views, "history", "visa", "--json") == run(
        old_store(tmp_path), tmp_path / "old-views.db", "history", "visa", "--json")


def test_an_export_written_by_0_5_comes_back_out_line_for_line_with_class_versions_said(tmp_path):
    store, views = str(tmp_path / "events.db"), tmp_path / "views.db"
    run(store, views, "import", str(OLD_EXPORT))
    again = [json.loads(text) for text in run(store, views, "export").splitlines()]
    for line in again:
        if line["type"] == "CommitmentRegistered":
            assert line.pop("class_version") == 2
    assert again == [json.loads(text) for text in OLD_EXPORT.read_text().splitlines()]
