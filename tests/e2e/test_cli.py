"""The command line end to end, through typer's CliRunner, on real store files."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from events import EVENT_TYPES, parse_line
from tracker.cli import COMMAND_MODULES, app
from tracker.cli.record import command_name, example, line_from_options

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def db(store_url: str) -> str:
    return store_url


def test_demo_loads_the_xian_history_and_shows_the_board_and_meeting_summary(db):
    result = run("--db", db, "demo")
    assert result.exit_code == 0, result.stderr
    assert "demo history: 31 events added, 0 already there" in result.stderr
    assert "xian-2023-visa-exemption" in result.stdout
    assert "22 reported, 8 identified" in result.stdout
    again = run("--db", db, "demo")
    assert "demo history: 0 events added, 31 already there" in again.stderr


def test_a_board_too_wide_for_the_terminal_shows_a_commitment_at_a_time(db, monkeypatch):
    run("--db", db, "demo")
    monkeypatch.setenv("COLUMNS", "80")
    lines = [line.rstrip() for line in run("--db", db, "status").stdout.splitlines()]
    start = lines.index("xian-2023-visa-exemption")
    assert lines[start:start + 7] == [
        "xian-2023-visa-exemption",
        "  legal status     signed since 2023-05-17",
        "  implementation   committed",
        "  last change      2023-05-17 agreement signed in Xian",
        "  next step        domestic procedures: CN, KZ",
        "  sources          1",
        "  overdue          no",
    ]


@pytest.mark.parametrize("columns", [80, 100, 116, 124, 140, 200])
def test_the_board_cuts_no_word_at_any_terminal_width(db, monkeypatch, columns):
    run("--db", db, "demo")
    board = json.loads(run("--db", db, "status", "--json").stdout)
    words = {"Status", "board", "overdue", "yes", "no"} | {w for row in board for key, value in row.items()
                                                if key != "overdue" for w in f"{key.replace('_', ' ')} {value or ''}".split()}
    monkeypatch.setenv("COLUMNS", str(columns))
    shown = {w for w in run("--db", db, "status").stdout.split() if set(w) != {"─"}}
    assert shown <= words, sorted(shown - words)


def test_the_demo_board_as_json_lists_every_commitment_with_its_statuses(db):
    run("--db", db, "demo")
    result = run("--db", db, "status", "--json")
    assert result.exit_code == 0
    board = {row["commitment_id"]: row for row in json.loads(result.stdout)}
    assert len(board) == 10
    assert board["xian-2023-visa-exemption"] == {
        "commitment_id": "xian-2023-visa-exemption",
        "kind": "agreement",
        "title": "Mutual exemption from visa requirements",
        "parties": "KZ (Government of Kazakhstan), CN (Government of China)",
        "meeting_id": "xian-2023-state-visit",
        "sector": "mobility",
        "legal_status": "signed",
        "legal_since": "2023-05-17",
        "implementation_status": "committed",
        "last_change_on": "2023-05-17",
        "last_change": "agreement signed in Xian",
        "next_step": "domestic procedures: CN, KZ",
        "next_step_due": None,
        "sources": 1,
        "official_sources": 0,
        "open_claims": 0,
        "overdue": False,
        "lifecycle": "regime",
        "progress": None,
        "value": None,
    }
    assert board["xian-2023-shymkent-xian-sister-cities"]["implementation_status"] == "active"
    assert board["xian-2023-export-agreements"]["last_change"] == "contracts signed worth about 100,000,000 USD"


def test_history_lists_a_commitment_in_world_order_with_sources_as_csv(db):
    run("--db", db, "demo")
    run("--db", db, "record", "entered-into-force", "--event-id", "visa-in-force",
        "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-11-10",
        "--source-title", "Ministry of Foreign Affairs of Kazakhstan")
    result = run("--db", db, "history", "xian-2023-visa-exemption", "--csv")
    assert result.exit_code == 0
    rows = [r.split(",")[:4] for r in result.stdout.splitlines()]
    assert rows == [
        ["occurred_on", "event_id", "type", "summary"],
        ["2023-05-17", "xian-2023-visa-exemption-registered", "CommitmentRegistered", "registered: Mutual exemption from visa requirements"],
        ["2023-05-17", "xian-2023-visa-exemption-signed", "DocumentSigned", "agreement signed in Xian"],
        ["2023-05-18", "xian-2023-visa-exemption-lifecycle", "EventCorrected",
         "corrects xian-2023-visa-exemption-registered: lifecycle: (none) -> regime"],
        ["2023-11-10", "visa-in-force", "EnteredIntoForce", "entered into force"],
    ]


def test_the_board_as_of_a_past_date_is_replayed_from_the_events(db):
    run("--db", db, "demo")
    run("--db", db, "record", "entered-into-force", "--event-id", "visa-in-force",
        "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-11-10", "--source-title", "MFA")
    before = json.loads(run("--db", db, "status", "--as-of", "2023-06-01", "--json").stdout)
    after = json.loads(run("--db", db, "status", "--json").stdout)
    visa = "xian-2023-visa-exemption"
    assert [r["legal_status"] for r in before if r["commitment_id"] == visa] == ["signed"]
    assert [r["legal_status"] for r in after if r["commitment_id"] == visa] == ["in force"]
    assert json.loads(run("--db", db, "status", "--as-of", "2023-05-01", "--json").stdout) == []


def test_the_board_as_known_at_a_past_moment_ignores_later_recordings(db):
    run("--db", db, "demo")
    moment = max(r["recorded_at"] for r in json.loads(run("--db", db, "timeline", "--json").stdout))
    run("--db", db, "record", "entered-into-force", "--commitment-id", "xian-2023-visa-exemption",
        "--occurred-on", "2023-11-10", "--source-title", "MFA")
    known = json.loads(run("--db", db, "status", "--known-at", moment, "--json").stdout)
    assert {r["legal_status"] for r in known if r["commitment_id"] == "xian-2023-visa-exemption"} == {"signed"}


def test_export_then_import_into_a_new_store_gives_the_same_export(db, tmp_path):
    run("--db", db, "demo")
    first = run("--db", db, "export")
    assert first.exit_code == 0 and first.stderr.strip() == "exported 31 events"
    history = tmp_path / "history.jsonl"
    history.write_text(first.stdout)
    other = str(tmp_path / "other.db")
    imported = run("--db", other, "import", str(history))
    assert imported.exit_code == 0 and "imported 31 new events, 0 already recorded" in imported.stderr
    assert run("--db", other, "export").stdout == first.stdout
    again = run("--db", other, "import", str(history))
    assert "imported 0 new events, 31 already recorded" in again.stderr


def test_a_sqlite_store_needs_no_postgresql_driver_to_record_again(tmp_path):
    # The quick start installs no psycopg (it comes with the postgres extra).
    import subprocess
    import sys

    without_driver = ("import sys; sys.modules['psycopg'] = None; from tracker.cli import main;"
                      f" sys.argv = ['tracker', '--db', {str(tmp_path / 'events.db')!r}, 'demo']; main()")
    for _run in (1, 2):  # the second run records into a store that has events
        done = subprocess.run([sys.executable, "-c", without_driver], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == 0, done.stderr
    assert "demo history: 0 events added, 31 already there" in done.stderr


def test_an_import_in_chunks_records_the_same_history_as_a_whole_one(db, tmp_path):
    run("--db", db, "demo")
    history = tmp_path / "history.jsonl"
    history.write_text(run("--db", db, "export").stdout)
    whole, chunked = str(tmp_path / "whole.db"), str(tmp_path / "chunked.db")
    run("--db", whole, "import", str(history))
    imported = run("--db", chunked, "import", "--chunk", "4", str(history))
    assert (imported.exit_code, imported.stderr) == (0, "imported 31 new events, 0 already recorded\n")
    assert run("--db", chunked, "export").stdout == history.read_text()
    assert run("--db", chunked, "status", "--json").stdout == run("--db", whole, "status", "--json").stdout
    from_stdin = run("--db", str(tmp_path / "piped.db"), "import", "--chunk", "10", "-", input=history.read_text())
    assert from_stdin.stderr == "imported 31 new events, 0 already recorded\n"


def test_a_fact_refused_midway_leaves_the_chunks_before_it_recorded_and_the_import_can_be_run_again(db, tmp_path):
    run("--db", db, "demo")
    good = run("--db", db, "export").stdout
    ghost = ('{"type": "DocumentSigned", "event_id": "ghost-signed", "commitment_id": "atlantis",'
             ' "occurred_on": "2024-01-01", "instrument": "agreement", "source": {"title": "Rumour"}}\n')
    history = tmp_path / "history.jsonl"
    history.write_text(good + ghost)
    other = str(tmp_path / "other.db")
    result = run("--db", other, "import", "--chunk", "10", str(history))
    assert (result.exit_code, result.stderr) == (3, (
        "tracker: error: history.jsonl:32: no commitment 'atlantis' (see 'tracker status');"
        " lines 1 to 30 are recorded (fix it and import the file again: what is recorded is skipped)\n"))
    assert run("--db", other, "export").stdout == "".join(good.splitlines(keepends=True)[:30])
    assert len(json.loads(run("--db", other, "timeline", "--json").stdout)) == 30
    history.write_text(good)
    again = run("--db", other, "import", "--chunk", "10", str(history))
    assert again.stderr == "imported 1 new events, 30 already recorded\n"
    assert run("--db", other, "export").stdout == good


def test_a_bad_line_stops_an_import_in_chunks_before_anything_is_written(db, tmp_path):
    run("--db", db, "demo")
    before = run("--db", db, "export").stdout
    history = tmp_path / "history.jsonl"
    history.write_text(before.replace("xian-", "astana-") + '{"type": "DocumentSigned"\n')
    result = run("--db", db, "import", "--chunk", "2", str(history))
    assert (result.exit_code, result.stderr.count("\n")) == (2, 1)
    assert result.stderr.startswith("tracker: error: history.jsonl:32: not JSON")
    assert run("--db", db, "export").stdout == before
    result = run("--db", db, "import", "--chunk", "0", str(history))
    assert (result.exit_code, result.stderr) == (2, "tracker: error: Invalid value for '--chunk': 0 is not"
                                                    " in the range x>=1. (see 'tracker import --help')\n")


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"type": "DocumentSigned"\n', "history.jsonl:1: not JSON"),
        ('[1, 2]\n', "history.jsonl:1: each line must be a JSON object"),
        ('{"type": "TreatyBurnt", "event_id": "x"}\n', "unknown event type 'TreatyBurnt'"),
        ('{"type": "CommitmentRegistered", "event_id": "x", "commitment_id": "c", "occurred_on": "2023-02-30",'
         ' "kind": "agreement", "title": "T", "binding": true, "parties": [{"country": "KZ"}]}\n',
         "history.jsonl:1: CommitmentRegistered: occurred_on: '2023-02-30' is not a real calendar day"),
    ],
)
def test_a_bad_import_says_what_is_wrong_in_one_line_and_writes_nothing(db, tmp_path, content, message):
    run("--db", db, "demo")
    before = run("--db", db, "export").stdout
    history = tmp_path / "history.jsonl"
    history.write_text('{"type": "MeetingHeld", "event_id": "m2", "meeting_id": "m2", "occurred_on": "2024",'
                       ' "title": "Astana summit", "parties": [{"country": "KZ"}]}\n' + content)
    history.write_text(history.read_text().replace("history.jsonl:1", "history.jsonl:2"))
    result = run("--db", db, "import", str(history))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message.replace(":1:", ":2:") in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert run("--db", db, "export").stdout == before


def test_an_impossible_fact_exits_5_and_changes_nothing(db):
    run("--db", db, "demo")
    result = run("--db", db, "record", "resumed", "--commitment-id", "xian-2023-visa-exemption",
                 "--occurred-on", "2024-01-01", "--track", "legal", "--source-title", "MFA")
    assert result.exit_code == 5
    assert result.stderr.startswith("tracker: error: resumed-")
    assert "it was signed, not suspended" in result.stderr


def test_unknown_commitments_exit_3(db):
    run("--db", db, "demo")
    result = run("--db", db, "history", "atlantis")
    assert (result.exit_code, result.stderr) == (3, "tracker: error: no commitment 'atlantis' (see 'tracker status')\n")


def test_usage_errors_are_one_line_with_a_pointer_to_help(db):
    result = run("--db", db, "status", "--as-of", "yesterday")
    assert (result.exit_code, result.stderr) == (2, "tracker: error: --as-of 'yesterday' is not a date (YYYY-MM-DD)\n")
    result = run("--db", db, "status", "--frobnicate")
    assert result.exit_code == 2
    assert result.stderr == "tracker: error: No such option: --frobnicate (see 'tracker status --help')\n"


def test_meetings_keep_every_reported_count_with_its_source(db, tmp_path):
    run("--db", db, "demo")
    run("--db", db, "record", "documents-reported", "--meeting-id", "xian-2023-state-visit",
        "--occurred-on", "2023-05-18", "--count", "21", "--source-title", "Another outlet")
    rows = json.loads(run("--db", db, "meetings", "--json").stdout)
    visit = next(r for r in rows if r["meeting_id"] == "xian-2023-state-visit")
    assert visit["summary"] == "22 reported, 21 reported, 8 identified"
    assert "21 reported (Another outlet)" in visit["reported"]


def test_indicators_show_the_trade_figures_over_time(db):
    run("--db", db, "demo")
    result = run("--db", db, "indicators", "--csv")
    assert result.stdout.splitlines()[:3] == [
        "period,reporter,partner,flow,value,currency,change_pct,source_title,source_publisher,occurred_on,event_id",
        "2023-Q1,KZ,CN,exports,2600000000.0,USD,5.0,Kazakhstan and China sign joint statement and 22 documents during state visit in Xian,Press report citing the Akorda press service,2023-Q1,kz-cn-exports-2023-q1",
        "2023-Q1,KZ,CN,imports,3300000000.0,USD,56.0,Kazakhstan and China sign joint statement and 22 documents during state visit in Xian,Press report citing the Akorda press service,2023-Q1,kz-cn-imports-2023-q1",
    ]


def test_parties_give_each_country_and_institution_their_counts(db):
    run("--db", db, "demo")
    rows = json.loads(run("--db", db, "parties", "--json").stdout)
    assert {"country": "KZ", "institution": "Shymkent", "commitments": 1, "signed": 1, "in_force": 0,
            "completed": 1, "overdue": 0} in rows
    assert next(r for r in rows if r["country"] == "CN" and r["institution"] == "")["commitments"] == 10


def test_schema_describes_every_event_type(db):
    schema = json.loads(run("schema", "--json").stdout)
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in schema["oneOf"]} == set(EVENT_TYPES)
    signed = json.loads(run("schema", "DocumentSigned").stdout)
    assert signed["properties"]["type"] == {"const": "DocumentSigned"}
    assert "originator_id" not in signed["properties"]


def _commands(group, path=()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def _every_command_loaded():
    root = get_command(app)
    for name in root.list_commands(None):
        root.get_command(None, name)
    return root


def test_every_command_has_help_with_an_example():
    root = _every_command_loaded()
    assert len(root.commands) == 19
    paths = [path for path, _ in _commands(root)]
    assert sorted(p for p in paths if len(p) == 1) == sorted((name,) for name in COMMAND_MODULES)
    assert sorted(p for p in paths if len(p) > 1) == sorted(("record", command_name(t)) for t in EVENT_TYPES)
    missing = []
    for path, command in _commands(root):
        text = f"{command.help or ''} {command.epilog or ''}"
        if not command.help or "tracker" not in text or "xample" not in text:
            missing.append(" ".join(path))
    assert missing == []


LISTINGS = {"changes": ["--since", "2024-01-01"], "history": ["xian-2023-visa-exemption"], "indicators": [],
            "meetings": [], "parties": [],
            "status": [], "timeline": []}


def test_every_listing_command_and_no_other_ends_with_the_same_json_and_csv_options():
    shared = [(["--json"], "Print a JSON array instead of a table."),
              (["--nl"], "Print newline-delimited JSON: one object per line."),
              (["--csv"], "Print CSV instead of a table."), (["--tsv"], "Print tab-separated values instead of a table.")]
    offering = {" ".join(path) for path, command in _commands(_every_command_loaded())
                if any("--csv" in p.opts for p in command.params)}
    assert offering == set(LISTINGS)
    for name in LISTINGS:
        command = _every_command_loaded().commands[name]
        options = [p for p in command.params if p.name not in ("db", "views", "with_basis")]  # these come last
        assert [(p.opts, p.help) for p in options[-4:]] == shared


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_every_listing_stamped_with_its_basis_gives_the_same_rows_and_the_store_position(db, name):
    assert run("--db", db, "demo").exit_code == 0
    plain = run("--db", db, name, *LISTINGS[name], "--json")
    stamped = run("--db", db, name, *LISTINGS[name], "--json", "--with-basis")
    assert plain.exit_code == stamped.exit_code == 0, stamped.stderr
    answer = json.loads(stamped.stdout)
    rows = json.loads(plain.stdout)
    for row in [*rows, *answer["rows"]]:
        row.pop("recorded_at", None)  # changes: each run's own moment is not in the rows' facts
    assert answer["rows"] == rows
    assert answer["basis"]["position"] == 63  # the demo's 31 facts, their 31 claims, the key marker
    assert set(answer["basis"]) == {"as_of", "today", "known_at", "position", "since"}


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_every_listing_command_refuses_json_and_csv_together(tmp_path, name):
    result = run("--db", str(tmp_path / "t.db"), name, *LISTINGS[name], "--json", "--csv")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "tracker: error: choose one of --json and --csv\n")


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_every_record_example_describes_a_valid_event(type_name):
    words = shlex.split(example(EVENT_TYPES[type_name]).split(" && ")[-1])[3:]
    options: dict[str, object] = {}
    ints = {"score"}
    for flag, value in zip(words, words[1:] + [""]):
        if not flag.startswith("--"):
            continue
        name = flag[2:].replace("-", "_")
        if value.startswith("--") or value == "":
            options[name] = True
        elif name in ("change", "claim") or (name, type_name) in (("party", "CommitmentRegistered"), ("party", "MeetingHeld"), ("city", "SisterCityTieEstablished")):
            options.setdefault(name, []).append(value)
        else:
            options[name] = int(value) if name in ints else value
    assert parse_line(line_from_options(EVENT_TYPES[type_name], options)).type == type_name


def test_record_prints_the_event_id_on_stdout_and_says_what_it_did_on_stderr(db):
    result = run("--db", db, "record", "meeting-held", "--event-id", "astana-2024", "--meeting-id", "astana-2024",
                 "--occurred-on", "2024-07", "--title", "SCO summit", "--party", "KZ", "--party", "CN:Ministry of Foreign Affairs",
                 "--source-title", "Akorda")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "astana-2024\n", "recorded MeetingHeld astana-2024\n")


def test_the_default_store_lives_in_the_per_user_data_folder(data_dir):
    assert run("demo").exit_code == 0
    assert (data_dir / "tracker.db").exists() and (data_dir / "tracker.views.db").exists()
    assert oct((data_dir / "tracker.db").stat().st_mode & 0o777) == "0o600"


def test_the_tracker_db_variable_chooses_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "chosen.db"))
    assert run("demo").exit_code == 0
    assert (tmp_path / "chosen.db").exists()


def test_every_command_a_module_defines_is_listed_where_the_cli_finds_it():
    root = _every_command_loaded()
    assert sorted(root.commands) == sorted(COMMAND_MODULES)
    assert sorted(get_command(app).list_commands(None)) == sorted(COMMAND_MODULES)


def test_the_help_documents_the_exit_codes():
    result = run("--help")
    assert "5  impossible transition" in result.stdout
    assert "8  verify found the stored history altered" in result.stdout


def test_record_offers_no_option_for_what_the_tracker_sets_itself():
    for type_name in ("DocumentSigned", "CommitmentRegistered", "EventCorrected"):
        result = run("record", command_name(type_name), "--help")
        assert result.exit_code == 0
        for internal in ("--seal", "--originator", "--recorded-at"):
            assert internal not in result.stdout


def test_a_title_with_a_right_to_left_override_is_shown_escaped_so_its_row_reads_as_written(db):
    reversing = "Visa\u202e noitpmexe\x07"
    result = run("--db", db, "record", "commitment-registered", "--occurred-on", "2023-05-17",
                 "--commitment-id", "trojan-title", "--kind", "memorandum", "--title", reversing,
                 "--party", "KZ", "--party", "CN", "--not-binding", "--source-title", "Press\u202e report")
    assert result.exit_code == 0, result.stderr
    for shown in (run("--db", db, "status").stdout, run("--db", db, "history", "trojan-title").stdout):
        assert "\u202e" not in shown and "\x07" not in shown
        assert "Visa\\u202e noitpmexe\\x07" in shown
    assert "Press\\u202e report" in run("--db", db, "history", "trojan-title").stdout
    stored = json.loads(run("--db", db, "status", "--json").stdout)
    assert [r["title"] for r in stored if r["commitment_id"] == "trojan-title"] == [reversing]
