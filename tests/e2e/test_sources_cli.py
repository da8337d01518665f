"""Several sources per fact through the command line: `tracker record` and `tracker import`
on the demo history of the Xian visit, then what `status`, `history` and the report show."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
VISA = "xian-2023-visa-exemption"
SIGNED = "xian-2023-visa-exemption-signed"


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def demo(store_url: str) -> str:
    assert run("--db", store_url, "demo").exit_code == 0
    return store_url


def visa_row(db: str) -> dict:
    board = json.loads(run("--db", db, "status", "--json").stdout)
    return next(row for row in board if row["commitment_id"] == VISA)


def history_rows(db: str) -> dict:
    rows = json.loads(run("--db", db, "history", VISA, "--json").stdout)
    return {row["event_id"]: row for row in rows}


def test_a_news_agency_citing_the_signing_shows_on_the_board_and_in_the_history(demo):
    cited = run("--db", demo, "record", "source-cited", "--event-id", "kazinform", "--cites", SIGNED,
                "--occurred-on", "2023-05-17", "--source-title", "Visa-free travel agreed in Xian",
                "--source-publisher", "Kazinform", "--source-kind", "news agency")
    assert cited.exit_code == 0, cited.stderr
    assert cited.stderr == "recorded SourceCited kazinform\n"
    row = visa_row(demo)
    assert (row["sources"], row["official_sources"], row["open_claims"]) == (2, 0, 0)
    assert history_rows(demo)["kazinform"]["sources"] == "Visa-free travel agreed in Xian, Kazinform [news agency]"
    table = run("--db", demo, "status").stdout
    assert any(line.split()[0] == VISA and line.split()[-2:] == ["2", "no"] for line in table.splitlines() if line.strip())


def test_an_import_with_three_sources_on_one_fact_counts_the_official_one(demo, tmp_path):
    sources = [{"title": "Law ratifying the visa agreement", "publisher": "Adilet", "kind": "gazette"},
               {"title": "Senate approves visa agreement", "publisher": "Kazinform", "kind": "news agency"},
               {"title": "Ratification reported", "publisher": "Xinhua", "kind": "news agency"}]
    history = tmp_path / "ratified.jsonl"
    history.write_text(json.dumps({"type": "DomesticProcedureCompleted", "event_id": "kz-ratified",
                                   "commitment_id": VISA, "occurred_on": "2023-10-25", "party": "KZ",
                                   "procedure": "ratification", "source": sources}) + "\n")
    imported = run("--db", demo, "import", str(history))
    assert imported.exit_code == 0, imported.stderr
    row = visa_row(demo)
    assert (row["sources"], row["official_sources"]) == (4, 1)
    ratified = history_rows(demo)["kz-ratified"]
    assert ratified["source_title"] == "Law ratifying the visa agreement"
    assert len(ratified["sources"].splitlines()) == 3
    table = run("--db", demo, "history", VISA).stdout
    assert "Law ratifying the visa agreement (+2 more)" in " ".join(table.split())
    assert any(line.split()[0] == VISA and line.split()[-2:] == ["4*", "no"]
               for line in run("--db", demo, "status").stdout.splitlines() if line.strip())
    exported = tmp_path / "out.jsonl"
    assert run("--db", demo, "export", str(exported)).exit_code == 0
    line = next(json.loads(x) for x in exported.read_text().splitlines() if '"kz-ratified"' in x)
    assert line["source"] == sources


def test_a_conflicting_claim_is_counted_until_settled_and_an_accepted_one_moves_the_date(demo):
    claimed = run("--db", demo, "record", "claim-conflicted", "--event-id", "tengri", "--conflicts-with", SIGNED,
                  "--occurred-on", "2023-05-18", "--claim", "occurred_on=2023-05-18",
                  "--source-title", "Visa agreement signed on 18 May", "--source-kind", "news agency")
    assert claimed.exit_code == 0, claimed.stderr
    assert visa_row(demo)["open_claims"] == 1
    assert history_rows(demo)[SIGNED]["standing"] == "contested by tengri"
    assert any(line.split()[0] == VISA and line.split()[-3:] == ["1", "1?", "no"]
               for line in run("--db", demo, "status").stdout.splitlines() if line.strip())
    settled = run("--db", demo, "record", "claim-settled", "--event-id", "tengri-right", "--settles", "tengri",
                  "--outcome", "claim accepted", "--reason", "the register says the 18th", "--occurred-on", "2023-06",
                  "--source-title", "Register of international treaties", "--source-kind", "depositary")
    assert settled.exit_code == 0, settled.stderr
    row = visa_row(demo)
    assert (row["open_claims"], row["last_change_on"]) == (0, "2023-05-18")
    assert history_rows(demo)[SIGNED]["standing"] == "corrected by tengri-right (claim tengri accepted)"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["claim-conflicted", "--conflicts-with", SIGNED, "--claim", "colour=red"], 2,
     "tracker: error: DocumentSigned has no field colour to contradict\n"),
    (["claim-conflicted", "--conflicts-with", SIGNED, "--claim", "occurred_on=18 May"], 2,
     "tracker: error: claim is invalid: DocumentSigned: occurred_on: '18 May' is not a world date: use"
     " YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY; a range FROM/TO (2023-06-12/2023-06-14); an open bound ../TO"
     " (on or before) or FROM/.. (on or after); XXXX, YYYY-XX or YYYY-MM-XX (unknown); ~ (approximate),"
     " ? (uncertain) or % (both) after a date\n"),
    (["claim-conflicted", "--conflicts-with", "no-such-fact", "--claim", "occurred_on=2023-05-18"], 3,
     "tracker: error: no recorded event 'no-such-fact' to contradict\n"),
    (["claim-settled", "--settles", SIGNED, "--outcome", "claim accepted", "--reason", "r"], 5,
     f"tracker: error: '{SIGNED}' is a DocumentSigned, not a ClaimConflicted: only a conflicting claim is settled\n"),
    (["source-cited", "--cites", SIGNED, "--no-source"], 2,
     "tracker: error: SourceCited: source: Field required\n"),
])
def test_a_bad_claim_or_citation_is_refused_with_one_line_and_nothing_is_written(demo, args, code, message):
    before = run("--db", demo, "export").stdout
    refused = run("--db", demo, "record", *args, "--occurred-on", "2023-05-18",
                  *([] if "--no-source" in args else ["--source-title", "Tengrinews"]))
    assert (refused.exit_code, refused.stderr) == (code, message)
    assert run("--db", demo, "export").stdout == before


def test_settling_a_claim_twice_is_refused(demo):
    run("--db", demo, "record", "claim-conflicted", "--event-id", "tengri", "--conflicts-with", SIGNED,
        "--occurred-on", "2023-05-18", "--claim", "occurred_on=2023-05-18", "--source-title", "Tengrinews")
    settle = ["--db", demo, "record", "claim-settled", "--settles", "tengri", "--outcome", "recorded fact stands",
              "--occurred-on", "2023-06", "--no-source"]
    assert run(*settle, "--event-id", "akorda-right", "--reason", "the Akorda says the 17th").exit_code == 0
    again = run(*settle, "--event-id", "checked-again", "--reason", "checked once more")
    assert (again.exit_code, again.stderr) == (5, "tracker: error: claim 'tengri' was already settled by 'akorda-right'\n")
    assert "checked-again" not in run("--db", demo, "export").stdout


def test_the_report_shows_every_source_of_a_fact_and_the_open_claims(demo, tmp_path):
    run("--db", demo, "record", "source-cited", "--cites", SIGNED, "--occurred-on", "2023-05-17",
        "--source-title", "Visa-free travel agreed in Xian", "--source-kind", "news agency")
    run("--db", demo, "record", "claim-conflicted", "--event-id", "tengri", "--conflicts-with", SIGNED,
        "--occurred-on", "2023-05-18", "--claim", "occurred_on=2023-05-18", "--source-title", "Tengrinews")
    out = tmp_path / "report.html"
    made = run("--db", demo, "report", "--html", str(out))
    assert made.exit_code == 0, made.stderr
    html = out.read_text()
    row = html[html.index(f'data-commitment="{VISA}"'):]
    row = row[:row.index("</tr>")]
    assert '<td data-field="sources">2<br><span class="late">1 open claim</span></td>' in row
    assert "Visa-free travel agreed in Xian <small>[news agency]</small>" in html


def test_recording_the_demo_signing_again_from_a_news_agency_is_taken_as_corroboration(demo):
    before = visa_row(demo)
    again = run("--db", demo, "record", "document-signed", "--commitment-id", VISA, "--occurred-on", "2023-05-17",
                "--instrument", "agreement", "--place", "Xian", "--source-title", "Visa-free travel agreed in Xian",
                "--source-publisher", "Kazinform", "--source-kind", "news agency")
    assert again.exit_code == 0, again.stderr
    after = visa_row(demo)
    assert {k: v for k, v in after.items() if k != "sources"} == {k: v for k, v in before.items() if k != "sources"}
    assert (before["sources"], after["sources"]) == (1, 2)


def test_importing_the_acceptance_of_a_claim_that_dates_the_signing_in_2099_is_refused_and_nothing_is_written(
        demo, tmp_path):
    lines = [{"type": "ClaimConflicted", "event_id": "typo-2099", "occurred_on": "2023-05-18",
              "source": {"title": "Visa agreement signed", "kind": "news agency"}, "conflicts_with": SIGNED,
              "claims": {"occurred_on": "2099-05-17"}},
             {"type": "ClaimSettled", "event_id": "typo-accepted", "occurred_on": "2023-06", "source": None,
              "settles": "typo-2099", "outcome": "claim accepted", "reason": "taken on trust"}]
    history = tmp_path / "claims.jsonl"
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    before = run("--db", demo, "export").stdout
    refused = run("--db", demo, "import", str(history))
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        f"tracker: error: claims.jsonl:2: typo-accepted: claim 'typo-2099' cannot be accepted: it dates '{SIGNED}'"
        " 2099-05-17, which has not happened yet (")
    assert refused.stderr.endswith("); settle it with 'recorded fact stands'\n")
    assert run("--db", demo, "export").stdout == before
    assert visa_row(demo)["legal_since"] == "2023-05-17"
