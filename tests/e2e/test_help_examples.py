"""Every example in every command's help, run as written against a fresh copy of the demo store."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from tracker.cli import app

BIN = Path(sys.executable).parent
# Examples that serve or follow until interrupted: they must still be running, unhurt, after a while.
LONG_RUNNING = ("tracker follow", "tracker serve")


def _examples_in(text: str) -> list[str]:
    lines = []
    for line in (text or "").splitlines():
        line = line.strip().removeprefix("Example: ")
        if re.match(r"(tracker|export|cat) ", line) and "USER@HOST" not in line:
            lines.append(line)
    return lines


def every_example() -> list[tuple[str, str]]:
    import typer

    group = get_command(app)
    ctx = typer.Context(group, info_name="tracker")
    found = [("tracker", e) for e in _examples_in(group.help)]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found += [(name, e) for e in _examples_in(command.help) + _examples_in(command.epilog)]
        for sub in getattr(command, "commands", {}).values():
            found += [(f"{name} {sub.name}", e) for e in _examples_in(sub.help) + _examples_in(sub.epilog)]
    return found


EXAMPLES = every_example()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    subprocess.run([BIN / "tracker", "--db", str(folder / "tracker.db"), "demo"], check=True, capture_output=True,
                   env={**os.environ, "TRACKER_HOME": str(folder)})
    return folder


def test_every_command_and_every_record_subcommand_shows_an_example():
    commands = {name for name, _ in EXAMPLES}
    assert {"status", "import", "record", "record entered-into-force", "record event-corrected"} <= commands


@pytest.mark.parametrize(("command", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_the_help_example_runs_against_the_demo_store(command, example, demo_store, tmp_path):
    if example.startswith("tracker serve"):
        pytest.importorskip("datasette")
    home = tmp_path / "home"
    shutil.copytree(demo_store, home)
    work = home  # where the examples' own file names (tracker.db, history.jsonl...) are
    # Files the import examples read: a history of the demo's own facts.
    history = (home / "export.jsonl")
    subprocess.run([BIN / "tracker", "--db", str(home / "tracker.db"), "export", str(history)], check=True,
                   capture_output=True)
    for name in ("history.jsonl", "new.jsonl", "million-events.jsonl"):
        shutil.copy(history, work / name)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "TRACKER_HOME": str(home),
           "TRACKER_DB": str(home / "tracker.db"), "COLUMNS": "120"}
    env.pop("TRACKER_VIEWS", None)
    env.pop("TRACKER_CIPHER_KEY", None)
    if "rotate-key" in example:
        env["TRACKER_NEW_CIPHER_KEY"] = subprocess.run([BIN / "tracker", "keygen"], capture_output=True,
                                                       text=True, check=True).stdout.strip()
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", example], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=4 if example.startswith(LONG_RUNNING) else 120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)  # the example's whole process group: bash and what it started
        out, err = process.communicate(timeout=60)
        assert example.startswith(LONG_RUNNING), f"{example} did not finish"
        return
    assert process.returncode == 0, f"{example}\n{err}"
    assert not example.startswith(LONG_RUNNING), f"{example} stopped: {err}"


def test_no_help_text_shows_the_docstrings_double_backquotes():
    from typer.testing import CliRunner

    from events import EVENT_TYPES
    from tracker.cli import app
    from tracker.cli.record import command_name

    runner = CliRunner()
    shown = [runner.invoke(app, ["record", "--help"]).stdout, runner.invoke(app, ["schema"]).stdout]
    shown += [runner.invoke(app, ["record", command_name(name), "--help"]).stdout for name in EVENT_TYPES]
    assert all(text for text in shown)
    assert [text.splitlines()[0] for text in shown if "``" in text] == []
    assert "dated ('occurred_on') when it was announced" in " ".join(shown[0].split())
