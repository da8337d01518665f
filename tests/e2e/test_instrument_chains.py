"""A commitment carried by several instruments over time, and domestic procedures taken in steps:
the cultural centres of the Xian visit, from the memorandum of intent of 17 May 2023 to the
binding agreement signed in Astana, ratified by each party and entering into force."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
CENTRES = "xian-2023-cultural-centres"
AGREEMENT = "astana-2024-cultural-centres-agreement"
SOURCE = ["--source-title", "Akorda press service"]


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def record(db: str, event: str, *args: str) -> None:
    result = run("--db", db, "record", event, "--commitment-id", CENTRES, *args, *SOURCE)
    assert result.exit_code == 0, result.output


def board(db: str, *args: str) -> dict:
    result = run("--db", db, "status", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["commitment_id"]: row for row in json.loads(result.stdout)}


@pytest.fixture
def demo(store_url: str) -> str:
    assert run("--db", store_url, "demo").exit_code == 0
    return store_url


def sign_the_astana_agreement(db: str) -> None:
    record(db, "document-signed", "--occurred-on", "2024-07-03", "--instrument", "agreement",
           "--instrument-id", AGREEMENT, "--place", "Astana", "--signatory", "KZ:Ministry of Culture and Information",
           "--signatory", "CN:Ministry of Culture and Tourism", "--entry-into-force-days", "30")
    record(db, "instruments-related", "--occurred-on", "2024-07-03", "--instrument-id", AGREEMENT,
           "--relation", "follows up", "--other-instrument-id", CENTRES)


def test_a_memorandum_carried_forward_by_a_binding_agreement_is_ratified_step_by_step_and_enters_into_force(demo):
    sign_the_astana_agreement(demo)
    row = board(demo)[CENTRES]
    assert (row["legal_status"], row["next_step"]) == ("signed", "domestic procedures: CN, KZ")
    assert row["instrument"] == "agreement (2024-07-03, Astana)"
    assert row["instrument_id"] == AGREEMENT
    assert row["instruments"] == "memorandum (2023-05-17, Xian) → agreement (2024-07-03, Astana): signed"

    # The lower chamber, then the upper: progress, never a completed procedure.
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-10-16", "--party", "KZ",
           "--step", "lower chamber approved")
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-11-21", "--party", "KZ",
           "--step", "upper chamber approved")
    row = board(demo)[CENTRES]
    assert (row["legal_status"], row["next_step"], row["next_step_due"]) == (
        "domestic procedures", "domestic procedures: CN, KZ (upper chamber approved)", None)

    # The law signed completes Kazakhstan; China's notification completes China.
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-12-02", "--party", "KZ",
           "--step", "law signed")
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-12-20", "--party", "CN",
           "--step", "notification sent")
    row = board(demo)[CENTRES]
    assert (row["next_step"], row["next_step_due"]) == ("entry into force", "2025-01-19")

    record(demo, "entered-into-force", "--occurred-on", "2025-01-19")
    row = board(demo)[CENTRES]
    assert row["legal_status"] == "in force"
    assert row["instruments"] == "memorandum (2023-05-17, Xian) → agreement (2024-07-03, Astana): in force"

    # Before the agreement, the memorandum alone carried it: no chain to show.
    then = board(demo, "--as-of", "2024-06-30")[CENTRES]
    assert then["legal_status"] == "signed" and "instrument" not in then
    during = board(demo, "--as-of", "2024-11-30")[CENTRES]
    assert during["next_step"] == "domestic procedures: CN, KZ (upper chamber approved)"

    history = run("--db", demo, "history", CENTRES, "--csv")
    assert history.exit_code == 0
    summaries = [line.split(",")[3] for line in history.stdout.splitlines()[1:]]
    assert summaries[1:] == [
        "memorandum signed in Xian",
        f"corrects {CENTRES}-registered: lifecycle: (none) -> reciprocal",
        f"agreement ({AGREEMENT}) signed in Astana",
        f"{AGREEMENT} follows up {CENTRES}",
        "KZ: lower chamber approved",
        "KZ: upper chamber approved",
        "KZ: law signed",
        "CN: notification sent",
        "entered into force",
    ]
    table = run("--db", demo, "history", CENTRES)
    assert "memorandum (2023-05-17, Xian) → agreement (2024-07-03, Astana): in force" in " ".join(table.stdout.split())
    replayed = run("--db", demo, "history", CENTRES, "--as-of", "2024-12-31")
    assert "agreement (2024-07-03, Astana): domestic procedures since 2024-10-16 / " in " ".join(replayed.stdout.split())


def test_the_report_shows_the_chain_of_instruments_beside_the_commitments_history(demo, tmp_path):
    sign_the_astana_agreement(demo)
    out = tmp_path / "report.html"
    assert run("--db", demo, "report", "--html", str(out)).exit_code == 0
    assert "memorandum (2023-05-17, Xian) → agreement (2024-07-03, Astana): signed / committed" in out.read_text()


def test_a_first_chambers_vote_completes_nothing_unless_the_instruments_rule_says_so(demo):
    record(demo, "document-signed", "--occurred-on", "2024-07-03", "--instrument", "agreement",
           "--instrument-id", AGREEMENT, "--place", "Astana", "--completed-by", "upper chamber approved",
           "--completed-by", "notification sent")
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-10-16", "--party", "KZ",
           "--step", "lower chamber approved")
    assert board(demo)[CENTRES]["next_step"] == "domestic procedures: CN, KZ (lower chamber approved)"
    record(demo, "domestic-procedure-step-taken", "--occurred-on", "2024-11-21", "--party", "KZ",
           "--step", "upper chamber approved")
    assert board(demo)[CENTRES]["next_step"] == "domestic procedures: CN"
    # The old way of saying a party is done still completes it.
    record(demo, "domestic-procedure-completed", "--occurred-on", "2024-12-20", "--party", "CN",
           "--procedure", "ratification")
    assert board(demo)[CENTRES]["next_step"] == "entry into force"


def test_a_second_signing_that_names_no_instrument_is_refused_and_says_how_to_record_a_new_one(demo):
    result = run("--db", demo, "record", "document-signed", "--commitment-id", CENTRES, "--occurred-on", "2024-07-03",
                 "--instrument", "agreement", "--place", "Astana", *SOURCE)
    assert result.exit_code == 5
    assert result.stderr.strip().endswith(
        "is impossible: it was already signed on 2023-05-17 (recorded fact 'xian-2023-cultural-centres-signed');"
        " a source that reports it otherwise is a ClaimConflicted on 'xian-2023-cultural-centres-signed';"
        " another instrument carrying it is recorded with its own instrument_id")
    assert "Traceback" not in result.output


def test_a_step_of_a_non_binding_memorandum_or_for_an_unsigned_instrument_is_refused_and_nothing_written(demo):
    before = run("--db", demo, "export").stdout
    step = run("--db", demo, "record", "domestic-procedure-step-taken", "--commitment-id", CENTRES,
               "--occurred-on", "2024-10-16", "--party", "KZ", "--step", "lower chamber approved", *SOURCE)
    assert step.exit_code == 5
    assert step.stderr.strip().endswith("a non-binding instrument has no domestic procedure step")
    unknown = run("--db", demo, "record", "entered-into-force", "--commitment-id", CENTRES, "--occurred-on", "2025",
                  "--instrument-id", AGREEMENT, *SOURCE)
    assert unknown.exit_code == 5
    assert (f"no instrument {AGREEMENT!r} was signed by then: record its signing first"
            f" (DocumentSigned with instrument_id {AGREEMENT})") in unknown.stderr
    assert run("--db", demo, "export").stdout == before


def test_an_agreement_that_supersedes_the_memorandum_ends_the_memorandum_not_the_commitment(demo):
    record(demo, "document-signed", "--occurred-on", "2024-07-03", "--instrument", "agreement",
           "--instrument-id", AGREEMENT, "--place", "Astana")
    record(demo, "instruments-related", "--occurred-on", "2024-07-03", "--instrument-id", AGREEMENT,
           "--relation", "supersedes", "--other-instrument-id", CENTRES)
    row = board(demo)[CENTRES]
    assert row["legal_status"] == "signed"
    assert row["next_step"] == "domestic procedures: CN, KZ"
    assert row["instruments"] == ("memorandum (2023-05-17, Xian; superseded) → agreement (2024-07-03, Astana):"
                                  " signed")
    # The memorandum has ended: nothing more can happen to it.
    late = run("--db", demo, "record", "terminated", "--commitment-id", CENTRES, "--occurred-on", "2025",
               "--instrument-id", CENTRES, *SOURCE)
    assert late.exit_code == 5
    assert f"instrument {CENTRES} was superseded on 2024-07-03" in late.stderr


def test_a_relation_to_a_commitment_not_recorded_yet_says_so_in_the_history_until_it_is(demo):
    other = "astana-2024-cultural-cooperation-programme"
    record(demo, "commitments-related", "--occurred-on", "2024-07-03", "--relation", "implements",
           "--other-commitment-id", other)
    history = run("--db", demo, "history", CENTRES, "--json")
    assert f"implements commitment {other} (not recorded yet)" in [r["summary"] for r in json.loads(history.stdout)]
    replayed = run("--db", demo, "history", CENTRES, "--json", "--as-of", "2025-01-01")
    assert f"implements commitment {other} (not recorded yet)" in [r["summary"] for r in json.loads(replayed.stdout)]
    assert board(demo)[CENTRES]["last_change"] == "memorandum signed in Xian"  # a link, not a change of status
    assert run("--db", demo, "record", "commitment-registered", "--commitment-id", other, "--occurred-on",
               "2024-07-03", "--kind", "programme", "--title", "Programme of cultural cooperation", "--party", "KZ",
               "--party", "CN", "--not-binding", *SOURCE).exit_code == 0
    history = run("--db", demo, "history", CENTRES, "--json")
    assert f"implements commitment {other}" in [r["summary"] for r in json.loads(history.stdout)]


def test_an_imported_chain_folds_as_recorded_and_the_schema_describes_the_new_vocabulary(store_url, tmp_path):
    source = {"title": "Akorda press service"}
    lines = [
        {"type": "CommitmentRegistered", "event_id": "centres", "commitment_id": CENTRES, "occurred_on": "2023-05-17",
         "kind": "memorandum", "title": "Cultural centres", "binding": False,
         "parties": [{"country": "KZ"}, {"country": "CN"}], "source": source},
        {"type": "DocumentSigned", "event_id": "memo", "commitment_id": CENTRES, "occurred_on": "2023-05-17",
         "instrument": "memorandum", "place": "Xian", "instrument_id": "xian-memo", "source": source},
        {"type": "DocumentSigned", "event_id": "agreement", "commitment_id": CENTRES, "occurred_on": "2024-07-03",
         "instrument": "agreement", "place": "Astana", "instrument_id": AGREEMENT, "source": source,
         "entry_into_force": {"completed_by": ["promulgated"]}},
        {"type": "DomesticProcedureStepTaken", "event_id": "kz-law", "commitment_id": CENTRES,
         "occurred_on": "2024-12-02", "party": "KZ", "step": "law signed", "source": source},
    ]
    path = tmp_path / "chain.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run("--db", store_url, "import", str(path)).exit_code == 0
    row = board(store_url)[CENTRES]
    assert row["next_step"] == "domestic procedures: CN, KZ (law signed)"  # this rule wants the law promulgated
    assert row["instruments"] == "memorandum (2023-05-17, Xian) → agreement (2024-07-03, Astana): domestic procedures"
    exported = run("--db", store_url, "export").stdout
    assert [json.loads(line)["event_id"] for line in exported.splitlines()] == [line["event_id"] for line in lines]
    assert json.loads(exported.splitlines()[2])["entry_into_force"] == {"completed_by": ["promulgated"]}

    schema = run("schema", "domestic-procedure-step-taken")
    assert schema.exit_code == 0
    assert "upper chamber approved" in schema.stdout and "instrument_id" in schema.stdout
    listing = run("schema").stdout
    assert "instruments-related" in listing and "commitments-related" in listing
