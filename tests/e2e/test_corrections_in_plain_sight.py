"""Corrections in plain sight: a corrected fact sits at its corrected date in history and the
timeline, its correction shows the old and new values with the correcting source, the board
says since when its legal status holds, and --known-at before the correction shows what was
then known."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from tests.builders import SOURCE, line, registered
from tracker.cli import app

runner = CliRunner()
VISA = "visa"
MFA = {"title": "Visa-free travel between Kazakhstan and China", "publisher": "Ministry of Foreign Affairs"}


@pytest.fixture
def cli(store_url, tmp_path):
    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", store_url, "--views", str(tmp_path / "views.db"), *args])
        assert result.exit_code == 0, result.stderr
        return result.stdout

    return run


@pytest.fixture
def corrected(cli, tmp_path):
    """The visa agreement in force, recorded as of 10 March 2024, then corrected by the
    ministry to 1 March (through 'tracker record'); the moment between the two."""
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(x) + "\n" for x in [
        registered(VISA, binding=False),
        line("DocumentSigned", "visa-signed", commitment_id=VISA, occurred_on="2023-05-17", instrument="agreement"),
        line("MilestoneReached", "visa-first-trips", commitment_id=VISA, occurred_on="2024-03-05",
             milestone="first visa-free trips"),
        line("EnteredIntoForce", "visa-in-force", commitment_id=VISA, occurred_on="2024-03-10"),
    ]))
    cli("import", str(first))
    between = datetime.now(timezone.utc).isoformat()
    cli("record", "event-corrected", "--event-id", "visa-date-fixed", "--corrects", "visa-in-force",
        "--occurred-on", "2024-04-02", "--reason", "The ministry's notice gives 1 March",
        "--change", "occurred_on=2024-03-01", "--source-title", MFA["title"], "--source-publisher", MFA["publisher"])
    return between


def rows(cli, command: str, *args: str) -> list[tuple[str, str, str, str | None, str]]:  # noqa: ANN001
    found = json.loads(cli(*command.split(), "--json", *args))
    return [(r["occurred_on"], r["event_id"], r["summary"], r["source_title"], r["standing"])
            for r in found if r.get("subject", VISA) == VISA]


AFTER_THE_CORRECTION = [
    ("2023-05-17", "visa-registered", "registered: Agreement visa", SOURCE["title"], "standing"),
    ("2023-05-17", "visa-signed", "agreement signed", SOURCE["title"], "standing"),
    ("2024-03-01", "visa-in-force", "entered into force", SOURCE["title"], "corrected by visa-date-fixed"),
    ("2024-03-05", "visa-first-trips", "milestone: first visa-free trips", SOURCE["title"], "standing"),
    ("2024-04-02", "visa-date-fixed", "corrects visa-in-force: occurred_on: 2024-03-10 -> 2024-03-01", MFA["title"],
     "standing"),
]
BEFORE_THE_CORRECTION = [
    ("2023-05-17", "visa-registered", "registered: Agreement visa", SOURCE["title"], "standing"),
    ("2023-05-17", "visa-signed", "agreement signed", SOURCE["title"], "standing"),
    ("2024-03-05", "visa-first-trips", "milestone: first visa-free trips", SOURCE["title"], "standing"),
    ("2024-03-10", "visa-in-force", "entered into force", SOURCE["title"], "standing"),
]


@pytest.mark.parametrize("command", ["history visa", "timeline"])
def test_a_corrected_fact_sits_at_its_corrected_date_and_its_correction_shows_old_and_new_values(cli, corrected,
                                                                                                command):
    assert rows(cli, command) == AFTER_THE_CORRECTION
    assert rows(cli, command, "--known-at", "2100-01-01") == AFTER_THE_CORRECTION  # the replay agrees


@pytest.mark.parametrize("command", ["history visa", "timeline"])
def test_known_at_before_the_correction_shows_the_old_fact_at_the_old_date_and_no_correction(cli, corrected, command):
    assert rows(cli, command, "--known-at", corrected) == BEFORE_THE_CORRECTION


def test_as_of_a_day_between_the_wrong_and_the_right_date_shows_the_fact_at_the_right_one(cli, corrected):
    assert [r[1] for r in rows(cli, "history visa", "--as-of", "2024-03-02")] == [
        "visa-registered", "visa-signed", "visa-in-force"]


def test_the_history_table_shows_the_correction_and_the_correcting_source(cli, corrected, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    table = cli("history", VISA)
    assert "corrects visa-in-force: occurred_on: 2024-03-10 -> 2024-03-01" in table
    assert MFA["title"] in table
    assert table.count("2024-03-10") == 1  # only as the old value


def test_the_board_says_since_when_the_legal_status_holds_as_corrected(cli, corrected, monkeypatch):
    [row] = json.loads(cli("status", "--json"))
    assert (row["legal_status"], row["legal_since"]) == ("in force", "2024-03-01")
    [then] = json.loads(cli("status", "--json", "--as-of", "2024-03-02"))
    assert (then["legal_status"], then["legal_since"]) == ("in force", "2024-03-01")
    [known] = json.loads(cli("status", "--json", "--known-at", corrected))
    assert (known["legal_status"], known["legal_since"]) == ("in force", "2024-03-10")
    monkeypatch.setenv("COLUMNS", "138")
    assert "in force since 2024-03-01" in cli("status")


def test_a_rebuild_shows_the_corrections_as_the_read_models_kept_up_to_date_do(cli, corrected):
    live = cli("timeline", "--json")
    cli("rebuild")
    assert cli("timeline", "--json") == live


def test_a_second_correction_shows_the_value_the_first_one_gave(cli, corrected):
    cli("record", "event-corrected", "--event-id", "visa-date-fixed-again", "--corrects", "visa-in-force",
        "--occurred-on", "2024-04-03", "--reason", "The gazette gives 2 March", "--change", "occurred_on=2024-03-02",
        "--source-title", "Official gazette")
    history = {r[1]: r for r in rows(cli, "history visa")}
    assert history["visa-in-force"][0] == "2024-03-02"
    assert history["visa-in-force"][4] == "corrected by visa-date-fixed-again"
    assert history["visa-date-fixed-again"][2] == "corrects visa-in-force: occurred_on: 2024-03-01 -> 2024-03-02"
    assert history["visa-date-fixed"][2] == "corrects visa-in-force: occurred_on: 2024-03-10 -> 2024-03-01"
    assert rows(cli, "history visa", "--known-at", "2100-01-01") == rows(cli, "history visa")


def test_a_correction_of_a_field_that_was_empty_says_so(tracker, tmp_path):
    from events import parse_line
    from projections import replay
    from tests.builders import fact

    tracker.record_many([parse_line(registered(VISA)), fact("DocumentSigned", "visa-signed", instrument="agreement")])
    tracker.record(parse_line({"type": "EventCorrected", "event_id": "place-added", "corrects": "visa-signed",
                               "occurred_on": "2023-06-01", "reason": "The report names the city",
                               "changes": {"place": "Xian"}, "source": SOURCE}))
    history, _ = replay.history(VISA, tracker.history(VISA),
                                known_at=datetime.now(timezone.utc) + timedelta(days=1))
    assert [(r["event_id"], r["summary"]) for r in history][1:] == [
        ("visa-signed", "agreement signed in Xian"), ("place-added", "corrects visa-signed: place: (none) -> Xian")]
