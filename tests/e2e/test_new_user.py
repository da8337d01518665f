"""A new user's first day: what the command line says and does where a newcomer stumbled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.schemas import event_schema

runner = CliRunner()
BIN = Path(sys.executable).parent
LISTINGS = {"history": ["xian-2023-visa-exemption"], "indicators": [], "meetings": [], "parties": [],
            "status": [], "timeline": []}


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def demo(store_url: str) -> str:
    assert run("--db", store_url, "demo").exit_code == 0
    return store_url


@pytest.fixture
def sqlite_demo(tmp_path: Path) -> str:
    db = str(tmp_path / "demo.db")
    assert run("--db", db, "demo").exit_code == 0
    return db


# -- defects -------------------------------------------------------------------------------

def test_export_dash_writes_the_history_to_stdout_and_no_file_named_dash(demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--db", demo, "export", "-")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 31
    assert not (tmp_path / "-").exists()


def test_report_html_dash_writes_the_page_to_stdout_and_no_file_named_dash(demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--db", demo, "report", "--html", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!doctype html>")
    assert not (tmp_path / "-").exists()


def test_a_file_that_is_not_a_database_as_store_is_exit_6_saying_to_check_the_file(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    result = run("--db", str(garbage), "status")
    assert result.exit_code == 6
    assert result.stderr == (f"tracker: error: cannot open the store {garbage}: file is not a database:"
                             " is it the right file? (--db, $TRACKER_DB)\n")


def test_a_data_folder_that_cannot_be_made_is_exit_6_saying_where_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_HOME", "/proc/no-such-folder")  # a folder no one can make, root included
    result = run("demo")
    assert result.exit_code == 6, result.stderr
    assert result.stderr.startswith("tracker: error: cannot open the store /proc/no-such-folder/tracker.db: ")
    assert result.stderr.endswith(": allow writing there, or name another store with --db or $TRACKER_DB\n")
    assert "internal error" not in result.stderr


def _damage(path: Path, page: int, flip_tail: bool = False) -> None:
    with open(path, "r+b") as f:
        f.seek(4096 * (page - 1))
        if flip_tail:  # a few bits of an index's keys: SQLite still reads the file
            f.seek(4096 * page - 300)
            tail = bytearray(f.read(300))
            for n in range(0, 300, 7):
                tail[n] ^= 1
            f.seek(4096 * page - 300)
            f.write(tail)
        else:
            f.write(os.urandom(4096))


def _checkpointed(db: str) -> Path:
    import sqlite3

    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(db)


def _root_page(db: Path, name: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as c:
        return c.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [name]).fetchone()[0]


def test_verify_runs_the_databases_own_check_and_names_a_damaged_index(sqlite_demo):
    store = _checkpointed(sqlite_demo)
    _damage(store, _root_page(store, "sqlite_autoindex_stored_events_1"), flip_tail=True)
    result = run("--db", str(store), "verify")
    assert result.exit_code == 8, result.stderr
    assert result.stderr.startswith("tracker: error: the store file is damaged: ")
    assert "(an index of stored_events: SQLite's REINDEX rebuilds it from the table)" in result.stderr


def test_verify_on_garbage_over_a_page_of_events_is_exit_8_naming_the_damage(sqlite_demo):
    store = _checkpointed(sqlite_demo)
    _damage(store, _root_page(store, "stored_events"))
    result = run("--db", str(store), "verify")
    assert result.exit_code == 8, result.stderr
    assert result.stderr.startswith("tracker: error: the store file is damaged: database disk image is malformed")


def test_the_bash_completion_script_of_tracker_completes_rec_to_record(tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    script = subprocess.run([BIN / "tracker", "--show-completion", "bash"], capture_output=True, text=True,
                            env={**env, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert script.returncode == 0, script.stderr
    (tmp_path / "completion.bash").write_text(script.stdout)
    completed = subprocess.run(
        ["bash", "-c", f"source {tmp_path / 'completion.bash'}; COMP_WORDS=(tracker rec); COMP_CWORD=1;"
                       " _tracker_completion tracker; echo \"${COMPREPLY[@]}\""],
        capture_output=True, text=True, env=env)
    assert completed.stdout.split() == ["record"], completed.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_tracker_offers_completion_for_each_shell(shell):
    result = subprocess.run([BIN / "tracker", "--show-completion", shell], capture_output=True, text=True,
                            env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.returncode == 0, result.stderr
    assert "_TRACKER_COMPLETE" in result.stdout


def test_record_subcommands_complete_and_record_offers_no_completion_of_its_own():
    result = subprocess.run([BIN / "tracker"], capture_output=True, text=True,
                            env={**os.environ, "_TRACKER_COMPLETE": "complete_bash",
                                 "COMP_WORDS": "tracker record entered", "COMP_CWORD": "2"})
    assert result.stdout.split() == ["entered-into-force"], result.stderr
    assert "--install-completion" not in run("record", "--help").stdout


def test_record_with_no_subcommand_prints_its_help_on_several_lines_and_exits_2():
    result = run("record")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "Usage: tracker record [OPTIONS] COMMAND [ARGS]..."
    assert "  document-signed" in "\n".join(lines)
    assert len(lines) > 20


def test_a_table_piped_to_a_file_has_no_trailing_spaces(demo):
    for command, args in LISTINGS.items():
        lines = run("--db", demo, command, *args).stdout.splitlines()
        assert lines and all(line == line.rstrip() for line in lines), command


def test_an_assessments_note_shows_in_history_and_in_the_timeline_json(demo):
    recorded = run("--db", demo, "record", "assessed", "--commitment-id", "xian-2023-visa-exemption",
                   "--occurred-on", "2024-01", "--score", "1", "--note", "Visa-free travel began",
                   "--source-title", "MFA")
    assert recorded.exit_code == 0, recorded.stderr
    assert "Visa-free travel began" in run("--db", demo, "history", "xian-2023-visa-exemption").stdout
    history = json.loads(run("--db", demo, "history", "xian-2023-visa-exemption", "--json").stdout)
    assert [r["note"] for r in history if r["type"] == "Assessed"] == ["Visa-free travel began"]
    replayed = json.loads(run("--db", demo, "history", "xian-2023-visa-exemption", "--as-of", "2024-12-31",
                              "--json").stdout)
    assert [r["note"] for r in replayed if r["type"] == "Assessed"] == ["Visa-free travel began"]
    timeline = json.loads(run("--db", demo, "timeline", "--json").stdout)
    assert [r["note"] for r in timeline if r["type"] == "Assessed"] == ["Visa-free travel began"]


def test_the_press_report_the_demo_cites_ships_with_the_package():
    text = files("tracker.demo").joinpath("kazakhstan-china-xian-summit-2023-05-17.txt").read_text(encoding="utf-8")
    assert "signed a joint statement on May 17 in Xian" in text


# -- friction -------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_version(flag):
    from importlib.metadata import version

    result = run(flag)
    assert result.exit_code == 0
    assert result.stdout == f"tracker {version('tracker')}\n"


def test_schema_takes_the_type_as_record_names_it_or_as_a_line_does():
    kebab, camel = run("schema", "document-signed"), run("schema", "DocumentSigned")
    assert kebab.exit_code == 0, kebab.stderr
    assert kebab.stdout == camel.stdout
    assert json.loads(kebab.stdout)["properties"]["type"] == {"const": "DocumentSigned"}


def test_schema_with_no_type_lists_the_types_one_a_line():
    result = run("schema")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("document-signed"))
    assert line.split()[:2] == ["document-signed", "DocumentSigned"]
    assert "The instrument was signed (by whom, where)" in line


def test_schema_json_prints_the_whole_schema_as_before():
    result = run("schema", "--json")
    assert result.stdout == json.dumps(event_schema(None), indent=2, ensure_ascii=False) + "\n"


def test_a_mistyped_command_gets_a_did_you_mean():
    result = run("statu")
    assert result.exit_code == 2
    assert result.stderr == ("tracker: error: No such command 'statu'; did you mean 'status'?"
                             " (see 'tracker --help')\n")


def test_the_store_options_are_taken_after_the_command_name_too(demo, tmp_path):
    result = run("status", "--db", demo, "--views", str(tmp_path / "other.views.db"), "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 10
    assert (tmp_path / "other.views.db").exists()
    later = run("--db", str(tmp_path / "nowhere.db"), "status", "--db", demo)
    assert later.exit_code == 0, later.stderr


def test_a_store_option_after_a_record_subcommand_names_the_store(demo):
    result = run("record", "milestone-reached", "--commitment-id", "xian-2023-trans-caspian-route",
                 "--occurred-on", "2024-06", "--milestone", "first train", "--source-title", "MFA", "--db", demo)
    assert result.exit_code == 0, result.stderr
    assert "first train" in run("--db", demo, "history", "xian-2023-trans-caspian-route").stdout


@pytest.mark.parametrize("command", ["status", "timeline", "export", "verify", "rebuild", "report"])
def test_a_reading_command_on_a_store_that_is_not_there_creates_nothing_and_says_how_to_make_one(tmp_path, command):
    args = ["--html", str(tmp_path / "r.html")] if command == "report" else []
    result = run("--db", str(tmp_path / "typo" / "dir" / "store.db"), command, *args)
    assert result.exit_code == 6
    assert result.stderr == (f"tracker: error: no store at {tmp_path}/typo/dir/store.db: 'tracker demo' loads an"
                             " example into it, 'tracker import FILE' or 'tracker record ...' starts one"
                             " (or name another with --db)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"] or not (tmp_path / "typo").exists()
    assert not (tmp_path / "typo").exists()


def test_writing_commands_still_make_a_new_store(tmp_path):
    assert run("--db", str(tmp_path / "new" / "store.db"), "demo").exit_code == 0
    assert (tmp_path / "new" / "store.db").exists()


UNKNOWN = {"type": "MilestoneReached", "event_id": "m1", "commitment_id": "no-such-commitment",
           "occurred_on": "2024", "milestone": "x", "source": {"title": "MFA"}}


@pytest.mark.parametrize("chunk", [[], ["--chunk", "2"]], ids=["whole file", "in chunks"])
def test_an_import_line_naming_an_unknown_commitment_is_named_by_file_and_line(demo, tmp_path, chunk):
    history = tmp_path / "history.jsonl"
    lines = run("--db", demo, "export").stdout.splitlines()[:3] + [json.dumps(UNKNOWN)]
    history.write_text("\n".join(lines) + "\n")
    result = run("--db", demo, "import", *chunk, str(history))
    assert result.exit_code == 3
    assert result.stderr.startswith("tracker: error: history.jsonl:4: no commitment 'no-such-commitment'")


@pytest.mark.parametrize("change", ["foo=bar", "occurred_on=2024-13-01"])
def test_a_bad_correction_is_bad_input_exit_2(demo, change):
    result = run("--db", demo, "record", "event-corrected", "--corrects", "xian-2023-visa-exemption-signed",
                 "--occurred-on", "2023-05-18", "--reason", "typo", "--change", change, "--source-title", "MFA")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("tracker: error: ")


def test_a_second_entry_into_force_names_the_recorded_fact_it_contradicts(demo):
    first = run("--db", demo, "record", "visa-exemption-entered-into-force", "--event-id", "visa-in-force",
                "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2023-11-10", "--stay-days", "30",
                "--source-title", "MFA")
    assert first.exit_code == 0, first.stderr
    second = run("--db", demo, "record", "entered-into-force", "--event-id", "again",
                 "--commitment-id", "xian-2023-visa-exemption", "--occurred-on", "2024-01-01", "--source-title", "MFA")
    assert second.exit_code == 5
    assert second.stderr == ("tracker: error: again: entered into force on 2024-01-01 is impossible: it was already"
                             " in force on 2023-11-10 (recorded fact 'visa-in-force'); a source that reports it"
                             " otherwise is a ClaimConflicted on 'visa-in-force'\n")


def test_recording_a_fact_without_a_source_needs_no_source_said_outright(demo):
    args = ["--db", demo, "record", "milestone-reached", "--commitment-id", "xian-2023-trans-caspian-route",
            "--occurred-on", "2024-06", "--milestone", "first train"]
    refused = run(*args)
    assert refused.exit_code == 2
    assert refused.stderr == ("tracker: error: say where the fact comes from: --source-title (with --source-publisher,"
                              " --source-published-on, --source-address), or --no-source to record it without one\n")
    assert "first train" not in run("--db", demo, "timeline").stdout
    assert run(*args, "--no-source").exit_code == 0


def test_importing_unsourced_lines_warns_once_with_their_count(demo, tmp_path):
    history = tmp_path / "unsourced.jsonl"
    lines = [{**UNKNOWN, "commitment_id": "xian-2023-trans-caspian-route", "event_id": f"m{n}", "milestone": f"step {n}"}
             for n in range(3)]
    for line in lines:
        del line["source"]
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run("--db", demo, "import", str(history))
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("tracker: warning:")]
    assert warnings == ["tracker: warning: 3 of 3 events have no source: they show '(no source)';"
                        " give each line a \"source\" to say where it comes from"]


def test_record_help_shows_what_to_type_and_helps_every_option():
    import typer
    from typer.main import get_command

    from events import EVENT_TYPES
    from tracker.cli.record import command_name

    listing = run("record", "--help").stdout
    assert "..." not in listing.split("Commands:")[1]  # no description cut short
    for name in EVENT_TYPES:
        text = run("record", command_name(name), "--help").stdout
        assert "<str>" not in text and "<int>" not in text, name
    group = get_command(app)
    record = group.get_command(typer.Context(group, info_name="tracker"), "record")
    for name, command in record.commands.items():
        assert [p.name for p in command.params if not getattr(p, "help", None)] == [], name
    visa = run("record", "visa-exemption-entered-into-force", "--help").stdout
    assert "--stay-days INTEGER" in visa
    assert "--occurred-on DATE" in visa


def test_follow_counts_events_not_store_positions(demo, tmp_path):
    result = run("--db", demo, "follow", "--stop-after", "0.5", "--interval", "0.1")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].endswith(": caught up 0 new events; 31 events in all")
    assert lines[-1] == "stopped with 31 events in all"


def test_a_json_lines_file_with_a_byte_order_mark_is_imported(demo, tmp_path):
    history = tmp_path / "bom.jsonl"
    history.write_bytes(b"\xef\xbb\xbf" + run("--db", demo, "export").stdout.encode())
    result = run("--db", demo, "import", str(history))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "imported 0 new events, 31 already recorded\n"


@pytest.mark.parametrize("command", sorted(LISTINGS))
def test_every_listing_prints_tab_separated_values_and_newline_delimited_json(demo, command):
    args = LISTINGS[command]
    array = json.loads(run("--db", demo, command, *args, "--json").stdout)
    nl = run("--db", demo, command, *args, "--nl")
    assert nl.exit_code == 0, nl.stderr
    assert [json.loads(line) for line in nl.stdout.splitlines()] == array
    tsv = run("--db", demo, command, *args, "--tsv")
    assert tsv.exit_code == 0, tsv.stderr
    header = tsv.stdout.splitlines()[0].split("\t")
    assert header == list(array[0]) and len(tsv.stdout.splitlines()) > len(array)
    both = run("--db", demo, command, *args, "--tsv", "--nl")
    assert both.exit_code == 2 and both.stderr == "tracker: error: choose one of --nl and --tsv\n"
