"""What the command line takes from typer beyond its documented API, in one place
(tests/test_library_internals.py fails, naming what changed, when a typer upgrade breaks it).

- typer vendors click as ``typer._click`` and does not export ``ClickException``, the base
  of every usage error it raises (an unknown option, a missing argument, a value out of
  range): the CLI catches it to print one line instead of click's usage block.
- ``typer.main.get_command_from_info`` and ``get_command_name`` build a single command of
  a Typer app, so that each command's module is imported only when that command runs.
"""

from typing import Any

import typer
from typer._click.exceptions import ClickException
from typer.main import get_command_from_info, get_command_name

__all__ = ["ClickException", "command_named"]


def command_named(app: typer.Typer, name: str) -> Any:
    """The click command of ``app``'s registered command called ``name``."""
    info = next(i for i in app.registered_commands
                if (i.name or get_command_name(i.callback.__name__)) == name)
    return get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                 rich_markup_mode=app.rich_markup_mode)
