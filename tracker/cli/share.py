"""Commands for people who will never open a terminal: an HTML report, a browsable site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from events.errors import InvalidInput
from tracker.cli import app
from tracker.cli.common import (
    AsOfOption,
    KnownAtOption,
    fresh_views,
    open_tracker,
    parse_as_of,
    refuse_overwriting_store,
    say,
)

if TYPE_CHECKING:
    from datetime import datetime


@app.command(epilog="Examples:\n\n  tracker report --html status.html\n\n"
             "  tracker report --html june.html --as-of 2023-06-30\n\n"
             "  tracker report --html status.html && tracker report --html weekly.html --since status.html\n\n"
             "  tracker report --html status.html && tracker report --html again.html --basis status.html")
def report(
    ctx: typer.Context,
    html: Annotated[str, typer.Option("--html", metavar="FILE",
                                      help="Write the report to this file ('-' for stdout).")],
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    since: Annotated[str | None, typer.Option(
        "--since", show_default=False,
        help="Add a section of what changed in what we know since then: a recording time (as"
        " --known-at), or an earlier report, whose basis it starts from.")] = None,
    basis_file: Annotated[Path | None, typer.Option(
        "--basis", show_default=False, dir_okay=False,
        help="Make the report again exactly as on this basis: an earlier report (or the JSON of"
        " a basis); the same store gives the same bytes, whatever was recorded since.")] = None,
) -> None:
    """Write one self-contained HTML file (no network, opens from an e-mail attachment): the
    status board with overdue items highlighted, a timeline chart, histories with sources,
    meeting and party summaries, and the trade indicators. It is stamped with its basis (the
    world date, the recording moment and the store's position) so that it can be made again."""
    import sys

    from tracker.basis import current_basis, read_basis
    from tracker.cli.common import parse_known_at

    target = Path(html)
    if html != "-":
        if target.is_dir():
            raise InvalidInput(f"--html {html!r} is a folder: name a file")
        if not target.parent.exists():
            raise InvalidInput(f"no folder {str(target.parent)!r} to write {target.name!r} in")
        refuse_overwriting_store(ctx, target)
    app_ = open_tracker(ctx)
    if basis_file is not None:
        if as_of or known_at or since:
            raise InvalidInput("--basis gives the date, moment and start of changes: leave out --as-of,"
                               " --known-at and --since")
        basis = read_basis(basis_file)
        if basis.position > (app_.recorder.max_notification_id() or 0):
            raise InvalidInput(f"the basis in {basis_file} is at store position {basis.position}, beyond this"
                               " store's: it was made from another store")
    else:
        start = None
        if since is not None:
            start = read_basis(Path(since)).known_at_moment if Path(since).is_file() else _since_moment(since)
        basis = current_basis(app_, parse_as_of(as_of), parse_known_at(known_at), start)
        if start is not None and start >= basis.known_at_moment:
            raise InvalidInput(f"--since {start.isoformat()} is not before the report's moment {basis.known_at}")
    page = report_on(app_, basis)
    if html == "-":
        sys.stdout.write(page)
        sys.stdout.flush()
        return
    target.write_text(page, encoding="utf-8")
    say(f"wrote {target} ({len(page) // 1024} KiB)")


def report_on(app_: Any, basis: Any) -> str:
    """The HTML report made from the store's facts on this basis, and only from them."""
    from projections.changes import changes
    from tracker.basis import facts_on
    from tracker.report import build, render

    facts = list(facts_on(app_, basis))
    data = build(_Facts(facts), basis.as_of_date, today=basis.today_date)
    data["basis"] = basis
    if basis.since_moment is not None:
        data["changes"] = changes((f for _, f in facts), basis.since_moment, basis.known_at_moment).rows
    return render(data)


class _Facts:
    """What ``build`` reads of the application, cut to the facts of a basis."""

    def __init__(self, facts: list[Any]):
        self._facts = facts

    def facts(self) -> Any:
        return iter(self._facts)


def datasette_metadata(database: str) -> dict:
    """Titles, descriptions and facets for each read-model table."""
    from projections.schema import TABLES, VIEWS

    facets = {
        "commitments": ["legal_status", "implementation_status", "sector", "meeting_id"],
        "timeline": ["type", "precision", "standing"],
        "indicators": ["flow", "reporter", "partner"],
        "commitment_parties": ["country", "institution"],
        "meeting_reports": ["meeting_id"],
    }
    hidden = {"meta", "positions", "streams"}
    tables = {}
    for name, spec in TABLES.items():
        tables[name] = {"description": spec["about"], "hidden": name in hidden}
        if name in facets:
            tables[name]["facets"] = facets[name]
        if name == "commitments":
            tables[name]["label_column"] = "title"
            tables[name]["sort"] = "commitment_id"
        if name == "timeline":
            tables[name]["sort"] = "starts_on"
    for name in VIEWS:
        tables[name] = {"description": {
            "status_board": "Every commitment with its legal and implementation status; overdue is computed against today",
            "parties": "Per country (institution empty) and per institution: commitments, signed, in force, completed, overdue",
        }[name]}
    return {
        "title": "Commitments tracker",
        "description": "Read models rebuilt from the tracker's events. Every row comes from recorded facts with sources.",
        "databases": {database: {"tables": tables}},
    }


# Datasette's own error page prints the traceback with rich after the exception is gone,
# which rich refuses, so every 404 became a 500: this plugin renders errors first.
PLAIN_ERRORS = """
from datasette import hookimpl, Response


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    status = getattr(exception, "status", 500)
    message = str(exception.args[0]) if exception.args else type(exception).__name__

    async def inner():
        html = await datasette.render_template(
            "error.html", {"ok": False, "error": message, "status": status, "title": None}, request=request
        )
        return Response.html(html, status=status)

    return inner
"""


@app.command(epilog="Examples:\n\n  tracker serve\n\n  tracker serve --port 8080")
def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8001,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Open the read models in Datasette to browse, filter, facet and export without SQL.
    Needs the optional extra: pip install -e '.[serve]'."""
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile

    try:
        import datasette  # noqa: F401
    except ImportError:
        raise InvalidInput("Datasette is not installed: pip install -e '.[serve]'") from None
    _refuse_port_in_use(host, port)
    views = fresh_views(ctx).resolve()
    # Datasette names a database after its file; a link gives it a plain name in URLs.
    folder = Path(tempfile.mkdtemp(prefix="tracker-serve-"))
    try:
        (folder / "tracker.db").symlink_to(views)
        (folder / "plugins").mkdir()
        (folder / "plugins" / "plain_errors.py").write_text(PLAIN_ERRORS)
        metadata = folder / "metadata.json"
        metadata.write_text(json.dumps(datasette_metadata("tracker"), indent=2))
        say(f"serving {views} on http://{host}:{port}/tracker (Ctrl-C to stop)")
        server = subprocess.Popen([sys.executable, "-m", "datasette", "serve", str(folder / "tracker.db"),
                                   "--metadata", str(metadata), "--plugins-dir", str(folder / "plugins"),
                                   "--host", host, "--port", str(port)])
        # Stopping tracker stops Datasette too, rather than leaving it serving on its own.
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())
        try:
            server.wait()
        except KeyboardInterrupt:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _since_moment(since: str) -> datetime:
    """A recording time; what is neither that nor an existing file is refused naming both."""
    from tracker.cli.common import parse_known_at

    try:
        moment = parse_known_at(since, "--since")
    except InvalidInput:
        raise InvalidInput(f"--since {since!r} is neither a date or ISO timestamp nor an earlier report"
                           " (no such file)") from None
    assert moment is not None  # given a value, it gives a moment
    return moment


def _refuse_port_in_use(host: str, port: int) -> None:
    """Datasette finding its port taken says so among its log lines and exits 0: say it first."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind((host, port))
        except OSError as error:
            raise InvalidInput(f"cannot serve on {host}:{port} ({error.strerror}): choose another port"
                               " with --port") from None
