"""The ``tracker`` command line: noun and verb commands over one store.

Only typer and the standard library are imported up front; each command imports
what it needs, so reading the board stays quick.
"""

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from events.errors import TrackerError

EXIT_CODES = """\b
Exit codes:
  0  done (a warning may say the read models lag)
  1  other error
  2  bad input or usage (nothing written)
  3  unknown commitment, meeting or event
  4  event id already used with other content, or already registered
  5  impossible transition (contradicts what is recorded)
  6  store unavailable (unreachable, full, locked too long, key does not fit)
  7  other writers kept changing the same records (nothing written)
  8  verify found the stored history altered
"""


def _say_error(message: str) -> None:
    """One line on stderr, whatever the message holds (control characters are escaped)."""
    from tracker.cli.output import printable

    sys.stderr.write(f"tracker: error: {printable(message)}\n")


# Each command's module, imported only when that command runs (or help lists them all):
# reading the board should not pay for importing the import, serve or record machinery.
COMMAND_MODULES = {
    "demo": "data", "export": "data", "import": "data", "rebuild": "data", "schema": "data",
    "history": "queries", "indicators": "queries", "meetings": "queries", "parties": "queries",
    "status": "queries", "timeline": "queries",
    "follow": "store", "keygen": "store", "rotate-key": "store", "verify": "store",
    "report": "share", "serve": "share",
    "record": "record",
    "changes": "changes",
}


# Commands that may make a new store; every other command reads one that exists.
WRITING_COMMANDS = frozenset({"record", "import", "demo"})

# The store options, taken before the command name or after it (the later one wins).
DB_HELP = ("Event store: a SQLite file or postgresql://user:pass@host/db"
           " (default: $TRACKER_DB, else a file in the per-user data folder).")
VIEWS_HELP = "Read-model SQLite file (default: $TRACKER_VIEWS, else beside the store)."
STORE_OPTIONS = {"db": ("--db", DB_HELP), "views": ("--views", VIEWS_HELP)}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"tracker {version('tracker')}")
        raise typer.Exit()


class TrackerGroup(TyperGroup):
    """Prints every user error as one line on stderr; loads each command's module when asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        from difflib import get_close_matches

        from tracker.cli.typer_internals import ClickException

        try:
            return self._click_resolve_command(ctx, args)
        except ClickException as error:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "No such command" in error.message:
                error.message = f"{error.message.rstrip('.')}; did you mean {' or '.join(repr(m) for m in matches)}?"
            raise

    def get_command(self, ctx: Any, name: str) -> Any:
        from tracker.cli.typer_internals import add_options

        command = self._command(ctx, name)
        for each in [command, *getattr(command, "commands", {}).values()] if command else []:
            add_options(each, STORE_OPTIONS, _take_store_option)
        return command

    def _command(self, ctx: Any, name: str) -> Any:
        if name in self.commands or name not in COMMAND_MODULES:
            return super().get_command(ctx, name)
        import importlib

        from typer.main import get_command

        from tracker.cli.typer_internals import command_named

        module = importlib.import_module(f"tracker.cli.{COMMAND_MODULES[name]}")
        command = get_command(module.record_app) if name == "record" else command_named(app, name)
        self.add_command(command, name)
        return command

    def main(self, args: Any = None, prog_name: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        from typer import Abort, Exit

        from tracker.cli.typer_internals import ClickException, NoArgsIsHelpError

        extra.pop("standalone_mode", None)
        try:
            result = super().main(
                args=args, prog_name=prog_name or "tracker", standalone_mode=False, **extra
            )
        except NoArgsIsHelpError as error:  # the command's help, as --help shows it, but as an error
            sys.stdout.flush()
            sys.stderr.write(error.ctx.get_help() + "\n")
            sys.exit(2)
        except ClickException as error:
            hint = ""
            ctx = getattr(error, "ctx", None)
            if ctx is not None:
                hint = f" (see '{ctx.command_path} --help')"
            _say_error(error.format_message().replace("\n", " ") + hint)
            sys.exit(error.exit_code)
        except TrackerError as error:
            _say_error(str(error).replace("\n", " "))
            sys.exit(error.exit_code)
        except (Abort, KeyboardInterrupt):
            _say_error("interrupted")
            sys.exit(130)
        except Exit as error:
            sys.exit(error.exit_code)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as error:  # a bug, not a user's mistake: say so in one line
            import os

            if os.environ.get("TRACKER_DEBUG"):
                raise
            _say_error(f"internal error: {type(error).__name__}: {error}"[:500].replace("\n", " ")
                       + " (set TRACKER_DEBUG=1 for the traceback)")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=TrackerGroup,
    name="tracker",
    help="Track what governments sign and whether it happens.\n\n"
    "Every fact is an immutable event with its source; the board, histories and"
    " summaries are rebuilt from the events.\n\n"
    "Example: tracker demo\n\n" + EXIT_CODES,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _take_store_option(ctx: Any, param: Any, value: str | None) -> None:
    """Keep a store option given after the command name; the store is resolved on first use."""
    if value is not None:
        ctx.find_root().meta.setdefault(STORE_CHOICE, {})[param.name] = value


STORE_CHOICE = "tracker.store_options"


@app.callback()
def options(
    ctx: typer.Context,
    db: str | None = typer.Option(None, STORE_OPTIONS["db"][0], help=DB_HELP, show_default=False),
    views: str | None = typer.Option(None, STORE_OPTIONS["views"][0], help=VIEWS_HELP, show_default=False),
    version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_version,
                                 help="Print the version and exit."),
) -> None:
    """Track what governments sign and whether it happens."""
    chosen = ctx.meta.setdefault(STORE_CHOICE, {})
    for name, value in (("db", db), ("views", views)):
        if value is not None:
            chosen.setdefault(name, value)


__all__ = ["app", "main", "COMMAND_MODULES"]


def main() -> None:
    from typer.main import get_command

    get_command(app).main(prog_name="tracker")
