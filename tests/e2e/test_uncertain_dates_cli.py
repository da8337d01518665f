"""Uncertain dates and expected facts through `tracker record`, `import`, `status`, `history`
and `schema`, on the demo's Xian history: the visa agreement signed on 17 May 2023."""

from __future__ import annotations

import json
import shlex

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
VISA = "xian-2023-visa-exemption"
SOURCE = ["--source-title", "Akorda press service"]


@pytest.fixture
def cli(store_url, tmp_path):
    """Runs a command on a store holding the demo history; returns the result."""
    def run(*args: str):
        return runner.invoke(app, ["--db", store_url, "--views", str(tmp_path / "views.db"), *args])

    assert run("demo").exit_code == 0
    return run


def ratify(cli, party: str, on: str, event_id: str):
    result = cli("record", "domestic-procedure-completed", "--event-id", event_id, "--commitment-id", VISA,
                 "--party", party, "--procedure", "ratification", "--occurred-on", on, *SOURCE)
    assert result.exit_code == 0, result.stderr


def test_a_ratification_before_the_other_partys_law_and_an_entry_into_force_over_a_summer(cli):
    ratify(cli, "KZ", "../2024-03-01", "kz-ratified")
    ratify(cli, "CN", "2024-03-01", "cn-law")
    result = cli("record", "entered-into-force", "--event-id", "in-force", "--commitment-id", VISA,
                 "--occurred-on", "2024-06/2024-08", *SOURCE)
    assert result.exit_code == 0, result.stderr
    [now] = [r for r in json.loads(cli("status", "--json").stdout) if r["commitment_id"] == VISA]
    assert (now["legal_status"], now["last_change_on"]) == ("in force", "2024-06/2024-08")
    [then] = [r for r in json.loads(cli("status", "--as-of", "2024-07-01", "--json").stdout)
              if r["commitment_id"] == VISA]
    assert (then["legal_status"], then["possibly"]) == (
        "domestic procedures", "possibly: entered into force (2024-06/2024-08)")
    table = cli("status", "--as-of", "2024-07-01").stdout
    assert "possibly" in table and "(2024-06/2024-08)" in table
    history = cli("history", VISA, "--as-of", "2024-07-01").stdout
    assert "domestic procedures since ../2024-03-01 / committed; possibly: entered into force (2024-06/2024-08)" in " ".join(
        history.split())
    rows = json.loads(cli("history", VISA, "--json").stdout)
    assert [r["occurred_on"] for r in rows] == ["2023-05-17", "2023-05-17", "2023-05-18", "../2024-03-01", "2024-03-01",
                                               "2024-06/2024-08"]


def test_a_fact_dated_in_the_future_is_refused_in_one_line_saying_how_to_record_it_as_expected(cli):
    before = cli("export").stdout
    result = cli("record", "entered-into-force", "--event-id", "in-force", "--commitment-id", VISA,
                 "--occurred-on", "2099-01-01", *SOURCE)
    assert result.exit_code == 2
    [message] = result.stderr.splitlines()
    assert message.startswith("tracker: error: in-force: EnteredIntoForce on 2099-01-01 has not happened yet"
                              " (recorded 20")
    suggested = ("tracker record step-expected --commitment-id"
                 f" {VISA} --step 'entry into force' --expected-on 2099-01-01 --occurred-on <when it was announced>"
                 " --source-title 'Akorda press service'")
    assert message.endswith(f": record it as expected: {suggested}")
    assert cli("export").stdout == before
    # the suggestion runs as printed once the announcement's date is filled in
    announced = shlex.split(suggested.replace("<when it was announced>", "2023-11-01"))[1:]
    assert cli(*announced).exit_code == 0


def test_an_announced_entry_into_force_is_due_on_the_board_and_overdue_when_it_passes(cli, tmp_path):
    ratify(cli, "KZ", "2023-10-25", "kz-ratified")
    ratify(cli, "CN", "2024-03-01", "cn-law")
    announced = tmp_path / "announced.jsonl"
    announced.write_text(json.dumps({
        "type": "StepExpected", "event_id": "eif-announced", "commitment_id": VISA, "occurred_on": "2024-05-20",
        "step": "entry into force", "expected_on": "2024-07", "source": {"title": "MFA of Kazakhstan"}}) + "\n")
    assert cli("import", str(announced)).exit_code == 0
    [row] = [r for r in json.loads(cli("status", "--json").stdout) if r["commitment_id"] == VISA]
    assert (row["next_step"], row["next_step_due"], row["overdue"]) == ("entry into force", "2024-07", True)
    assert "entry into force expected on 2024-07" in cli("history", VISA).stdout
    result = cli("record", "entered-into-force", "--event-id", "in-force", "--commitment-id", VISA,
                 "--occurred-on", "2024-07-10", *SOURCE)
    assert result.exit_code == 0, result.stderr
    [row] = [r for r in json.loads(cli("status", "--json").stdout) if r["commitment_id"] == VISA]
    assert (row["legal_status"], row["overdue"]) == ("in force", False)


def test_a_date_in_no_accepted_form_is_refused_in_one_line_listing_the_forms(cli):
    result = cli("record", "entered-into-force", "--event-id", "in-force", "--commitment-id", VISA,
                 "--occurred-on", "summer 2024", *SOURCE)
    assert result.exit_code == 2
    [message] = result.stderr.splitlines()
    assert "'summer 2024' is not a world date: use YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO" in message
    assert "../TO (on or before) or FROM/.. (on or after); XXXX, YYYY-XX or YYYY-MM-XX (unknown)" in message


def test_the_schema_describes_uncertain_dates_and_expected_steps(cli):
    schema = json.loads(cli("schema", "StepExpected").stdout)
    assert {"step", "expected_on", "occurred_on"} <= set(schema["properties"])
    occurred_on = json.loads(cli("schema", "DocumentSigned").stdout)["properties"]["occurred_on"]
    assert {"2023-06-12/2023-06-14", "../2024-03-01", "2024-03-01/..", "XXXX", "2023-06~"} <= set(
        occurred_on["examples"])
    assert "EDTF" in occurred_on["description"]
