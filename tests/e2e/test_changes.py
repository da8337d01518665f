"""'tracker changes' and the basis stamp, end to end on both stores: facts recorded at
controlled recording times (import lines carry ``recorded_at``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()
SOURCE = {"title": "Ministry press release", "publisher": "MFA"}
BEFORE, WINDOW, AFTER = "2024-01-10T09:00:00Z", "2024-02-10T09:00:00Z", "2024-06-10T09:00:00Z"


def registered(commitment: str, country: str, target_on: str) -> dict:
    return {"type": "CommitmentRegistered", "event_id": f"{commitment}-registered", "commitment_id": commitment,
            "occurred_on": "2024-01-01", "kind": "agreement", "title": f"The {commitment} memorandum",
            "parties": [{"country": "KZ"}, {"country": country}], "sector": "trade", "binding": False,
            "target_on": target_on, "source": SOURCE}


def signed(commitment: str, on: str) -> dict:
    return {"type": "DocumentSigned", "event_id": f"{commitment}-signed", "commitment_id": commitment,
            "occurred_on": on, "instrument": "memorandum", "source": SOURCE}


# Known by the end of January: alpha (due end of March), beta (with France), gamma, each signed.
KNOWN_IN_JANUARY = [
    registered("alpha", "CN", "2024-03-31"), signed("alpha", "2024-01-05"),
    registered("beta", "FR", "2025"), signed("beta", "2024-01-06"),
    registered("gamma", "CN", "2025"), signed("gamma", "2024-01-08"),
]
# Recorded in February: a milestone on alpha, a date corrected on beta, gamma's signing retracted.
RECORDED_IN_FEBRUARY = [
    {"type": "MilestoneReached", "event_id": "alpha-first-shipment", "commitment_id": "alpha",
     "occurred_on": "2024-02-01", "milestone": "first shipment", "source": SOURCE},
    {"type": "EventCorrected", "event_id": "beta-signed-date-fixed", "occurred_on": "2024-02-09",
     "corrects": "beta-signed", "reason": "signed a day later", "changes": {"occurred_on": "2024-01-07"},
     "source": SOURCE},
    {"type": "EventRetracted", "event_id": "gamma-signing-retracted", "occurred_on": "2024-02-09",
     "retracts": "gamma-signed", "reason": "only initialled", "source": SOURCE},
]
RECORDED_IN_JUNE = [registered("delta", "CN", "2025")]


def run(*args: str):
    return runner.invoke(app, list(args))


def ok(*args: str):
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def db(store_url: str, tmp_path: Path) -> list[str]:
    return ["--db", store_url, "--views", str(tmp_path / "views.db")]


def record(db: list[str], tmp_path: Path, lines: list[dict], recorded_at: str) -> None:
    file = tmp_path / f"{recorded_at[:10]}.jsonl"
    file.write_text("".join(json.dumps({**line, "recorded_at": recorded_at}) + "\n" for line in lines))
    ok(*db, "import", str(file))


@pytest.fixture
def history(db: list[str], tmp_path: Path) -> list[str]:
    record(db, tmp_path, KNOWN_IN_JANUARY, BEFORE)
    record(db, tmp_path, RECORDED_IN_FEBRUARY, WINDOW)
    record(db, tmp_path, RECORDED_IN_JUNE, AFTER)
    return db


def changes(db: list[str], *args: str) -> list[dict]:
    return json.loads(ok(*db, "changes", *args, "--json").stdout)


def test_changes_lists_exactly_what_was_recorded_between_since_and_until(history):
    rows = changes(history, "--since", "2024-01-31", "--until", "2024-04-30")
    assert [(r["change"], r["subject"], r["event_id"], r["before"], r["after"]) for r in rows] == [
        ("new fact", "alpha", "alpha-first-shipment", None, None),
        ("correction", "beta", "beta-signed-date-fixed", "occurred_on=2024-01-06", "occurred_on=2024-01-07"),
        ("retraction", "gamma", "gamma-signing-retracted", "2024-01-08 memorandum signed", None),
        ("legal status", "gamma", None, "signed", "not signed"),
        ("implementation status", "alpha", None, "committed", "in implementation"),
        ("implementation status", "gamma", None, "committed", "no evidence"),
        ("newly overdue", "alpha", None, None, "2024-03-31"),
    ]
    assert rows[0]["summary"] == "milestone: first shipment"
    assert rows[0]["source_title"] == "Ministry press release"
    assert rows[0]["recorded_at"] == "2024-02-10T09:00:00Z"


def test_a_date_means_the_end_of_that_day_as_for_known_at(history):
    # Nothing recorded in between, but a step fell due: overdue is judged on each end's day.
    assert [(r["change"], r["subject"]) for r in changes(history, "--since", "2024-02-10", "--until", "2024-04-30")] == [
        ("newly overdue", "alpha")]
    assert len(changes(history, "--since", "2024-02-09", "--until", "2024-02-10")) == 6  # no overdue yet
    moments = changes(history, "--since", "2024-02-10T08:59:59Z", "--until", "2024-02-10T09:00:00Z")
    assert [r["event_id"] for r in moments if r["event_id"]] == [
        "alpha-first-shipment", "beta-signed-date-fixed", "gamma-signing-retracted"]


def test_a_commitment_registered_in_the_window_is_a_new_fact_without_status_changes(history):
    rows = changes(history, "--since", "2024-06-01", "--until", "2024-06-30")
    assert [(r["change"], r["subject"], r["event_id"]) for r in rows] == [("new fact", "delta", "delta-registered")]


def test_changes_take_the_filters_of_status(history):
    rows = changes(history, "--since", "2024-01-31", "--until", "2024-04-30", "--party", "fr")
    assert [r["event_id"] for r in rows] == ["beta-signed-date-fixed"]
    csv = ok(*history, "changes", "--since", "2024-01-31", "--until", "2024-04-30", "--party", "FR", "--csv").stdout
    assert csv.splitlines()[0] == "change,subject,event_id,type,occurred_on,summary,before,after,source_title,recorded_at"
    bad = run(*history, "changes", "--since", "2024-01-31", "--party", "XX")
    assert bad.exit_code == 2 and bad.stderr == 'tracker: error: --party "XX" is not an ISO 3166-1 alpha-2 code\n'


def test_changes_refuse_a_window_that_ends_before_it_starts_or_a_bad_time(history):
    backwards = run(*history, "changes", "--since", "2024-05-01", "--until", "2024-04-30")
    assert backwards.exit_code == 2
    assert backwards.stderr == ("tracker: error: --since 2024-05-01T23:59:59.999999+00:00 is not before"
                                " --until 2024-04-30T23:59:59.999999+00:00\n")
    bad = run(*history, "changes", "--since", "last tuesday")
    assert bad.exit_code == 2 and bad.stderr == "tracker: error: --since 'last tuesday' is not a date or ISO timestamp\n"


def test_since_last_starts_where_the_previous_run_on_the_store_ended(db, tmp_path):
    record(db, tmp_path, KNOWN_IN_JANUARY, BEFORE)
    first = run(*db, "changes", "--since", "last")
    assert first.exit_code == 2
    assert first.stderr == ("tracker: error: no previous 'tracker changes' on this store to start from:"
                            " give a date or time, such as --since 2024-01-01\n")
    record(db, tmp_path, RECORDED_IN_FEBRUARY, WINDOW)
    ok(*db, "changes", "--since", "2024-01-01", "--until", "2024-01-31")
    assert [r["event_id"] for r in changes(db, "--since", "last", "--until", "2024-02-29") if r["event_id"]] == [
        "alpha-first-shipment", "beta-signed-date-fixed", "gamma-signing-retracted"]
    # Looking back at an older window does not move where 'last' starts.
    ok(*db, "changes", "--since", "2024-01-01", "--until", "2024-01-15")
    record(db, tmp_path, RECORDED_IN_JUNE, AFTER)
    later = changes(db, "--since", "last")
    assert [r["event_id"] for r in later if r["change"] == "new fact"] == ["delta-registered"]
    assert {r["subject"] for r in later if r["change"] == "newly overdue"} == {"alpha", "beta", "gamma", "delta"}
    assert changes(db, "--since", "last") == []


def test_with_basis_the_json_says_what_it_was_computed_from(history):
    stamped = json.loads(ok(*history, "changes", "--since", "2024-01-31", "--until", "2024-04-30",
                            "--json", "--with-basis").stdout)
    assert set(stamped) == {"basis", "rows"} and len(stamped["rows"]) == 7
    basis = stamped["basis"]
    assert basis["known_at"] == "2024-04-30T23:59:59.999999+00:00"
    assert basis["since"] == "2024-01-31T23:59:59.999999+00:00"
    assert basis["position"] > 0
    table = ok(*history, "changes", "--since", "2024-01-31", "--with-basis")
    assert table.stderr.startswith('basis: {"as_of":null,')


def test_the_report_shows_what_changed_since_and_its_basis(history, tmp_path):
    out = tmp_path / "weekly.html"
    ok(*history, "report", "--html", str(out), "--since", "2024-01-31", "--known-at", "2024-04-30")
    html = out.read_text()
    assert '<h2 id="changes">What changed since 2024-01-31T23:59:59.999999+00:00</h2>' in html
    assert html.count('<tr data-change="') == 7
    assert '<tr data-change="newly overdue">' in html
    assert "delta" not in html  # recorded in June, after the report's moment
    assert "what was recorded by 2024-04-30T23:59:59.999999+00:00 · store position" in html
    assert '<meta name="tracker-basis" content=\'{&#34;as_of&#34;:null,' in html


def test_a_report_made_again_from_its_basis_is_the_same_bytes_after_more_is_recorded(db, tmp_path):
    record(db, tmp_path, KNOWN_IN_JANUARY, BEFORE)
    first = tmp_path / "published.html"
    ok(*db, "report", "--html", str(first), "--since", "2024-01-01")
    record(db, tmp_path, RECORDED_IN_FEBRUARY, WINDOW)  # recorded later, with an older recording time
    record(db, tmp_path, RECORDED_IN_JUNE, AFTER)
    again = tmp_path / "again.html"
    ok(*db, "report", "--html", str(again), "--basis", str(first))
    assert again.read_bytes() == first.read_bytes()
    now = tmp_path / "now.html"
    ok(*db, "report", "--html", str(now))
    assert now.read_bytes() != first.read_bytes()


def test_report_basis_refuses_other_options_and_files_with_no_basis(history, tmp_path):
    out = tmp_path / "r.html"
    ok(*history, "report", "--html", str(out))
    mixed = run(*history, "report", "--html", str(tmp_path / "x.html"), "--basis", str(out), "--as-of", "2024-01-01")
    assert mixed.exit_code == 2 and "--basis gives the date, moment and start of changes" in mixed.stderr
    other = tmp_path / "other.html"
    other.write_text("<html>not a report</html>")
    refused = run(*history, "report", "--html", str(tmp_path / "x.html"), "--basis", str(other))
    assert refused.exit_code == 2
    assert refused.stderr == (f"tracker: error: {other} holds no basis (a report made by 'tracker report',"
                              " or the JSON object of a basis)\n")
    assert not (tmp_path / "x.html").exists()


def test_an_export_with_its_basis_imports_and_exports_again_the_same_events(history, tmp_path):
    exported = ok(*history, "export", "--with-basis").stdout.splitlines(keepends=True)
    stamp = json.loads(exported[-1])
    assert stamp["type"] == "Basis" and stamp["events"] == len(exported) - 1 and stamp["position"] > 0
    file = tmp_path / "published.jsonl"
    file.write_text("".join(exported))
    other = ["--db", str(tmp_path / "other.db"), "--views", str(tmp_path / "other.views.db")]
    imported = ok(*other, "import", str(file))
    assert "imported 10 new events, 0 already recorded" in imported.stderr
    # The same events (a single import records them stream by stream, so in another order).
    assert sorted(ok(*other, "export").stdout.splitlines(keepends=True)) == sorted(exported[:-1])
    assert ok(*history, "export").stdout == "".join(exported[:-1])  # without the flag: as before


def test_status_with_basis_wraps_its_json_and_without_it_prints_the_bare_list_as_before(history):
    bare = json.loads(ok(*history, "status", "--json").stdout)
    assert isinstance(bare, list) and len(bare) == 4
    stamped = json.loads(ok(*history, "status", "--json", "--with-basis").stdout)
    assert stamped["rows"] == bare
    assert stamped["basis"]["as_of"] is None and stamped["basis"]["position"] > 0
    replayed = json.loads(ok(*history, "status", "--as-of", "2024-04-30", "--known-at", "2024-02-29",
                             "--json", "--with-basis").stdout)
    assert {k: v for k, v in replayed["basis"].items() if k != "position"} == {
        "as_of": "2024-04-30", "today": "2024-04-30", "known_at": "2024-02-29T23:59:59.999999+00:00", "since": None}
    assert replayed["basis"]["position"] == stamped["basis"]["position"]
    assert [r["commitment_id"] for r in replayed["rows"] if r["overdue"]] == ["alpha"]


def test_a_report_since_an_earlier_report_lists_what_was_recorded_after_it(db, tmp_path):
    record(db, tmp_path, KNOWN_IN_JANUARY, BEFORE)
    january = tmp_path / "january.html"
    ok(*db, "report", "--html", str(january), "--known-at", "2024-01-31")
    record(db, tmp_path, RECORDED_IN_FEBRUARY, WINDOW)
    february = tmp_path / "february.html"
    ok(*db, "report", "--html", str(february), "--since", str(january), "--known-at", "2024-02-29")
    html = february.read_text()
    assert '<h2 id="changes">What changed since 2024-01-31T23:59:59.999999+00:00</h2>' in html
    assert [html.count(f'<tr data-change="{kind}">') for kind in ("new fact", "correction", "retraction")] == [1, 1, 1]
    late = run(*db, "report", "--html", str(tmp_path / "x.html"), "--since", "2024-03-01", "--known-at", "2024-02-29")
    assert late.exit_code == 2 and late.stderr == (
        "tracker: error: --since 2024-03-01T23:59:59.999999+00:00 is not before the report's moment"
        " 2024-02-29T23:59:59.999999+00:00\n")



def test_a_report_since_a_report_file_that_is_not_there_says_so(db, tmp_path):
    record(db, tmp_path, KNOWN_IN_JANUARY, BEFORE)
    result = run(*db, "report", "--html", str(tmp_path / "weekly.html"), "--since", "last-week.html")
    assert (result.exit_code, result.stderr) == (2, "tracker: error: --since 'last-week.html' is neither a date or"
                                                    " ISO timestamp nor an earlier report (no such file)\n")
    assert not (tmp_path / "weekly.html").exists()

def test_changes_with_basis_names_the_day_overdue_was_judged_on(history):
    stamped = json.loads(ok(*history, "changes", "--since", "2024-01-31", "--until", "2024-04-30",
                            "--json", "--with-basis").stdout)
    assert stamped["basis"]["today"] == "2024-04-30"


def test_a_conflicting_claim_and_its_settling_are_changes_with_the_old_and_claimed_values(history, tmp_path):
    agency = {"title": "Kazinform", "kind": "news agency"}
    record(history, tmp_path, [
        {"type": "ClaimConflicted", "event_id": "alpha-signed-date-claim", "occurred_on": "2024-07-01",
         "conflicts_with": "alpha-signed", "claims": {"occurred_on": "2024-01-04"}, "source": agency},
    ], "2024-07-02T09:00:00Z")
    record(history, tmp_path, [
        {"type": "ClaimSettled", "event_id": "alpha-signed-date-settled", "occurred_on": "2024-07-10",
         "settles": "alpha-signed-date-claim", "outcome": "recorded fact stands", "reason": "the ministry's date",
         "source": SOURCE},
    ], "2024-07-11T09:00:00Z")
    rows = changes(history, "--since", "2024-07-01", "--until", "2024-07-31")
    assert [(r["change"], r["event_id"], r["before"], r["after"]) for r in rows] == [
        ("conflicting claim", "alpha-signed-date-claim", "occurred_on=2024-01-05", "occurred_on=2024-01-04"),
        ("claim settled", "alpha-signed-date-settled", None, None),
    ]
    assert rows[1]["summary"] == "settles alpha-signed-date-claim: recorded fact stands (the ministry's date)"
