"""What the command line takes from typer beyond its documented API, in one place
(tests/test_library_internals.py fails, naming what changed, when a typer upgrade breaks it).

- typer vendors click as ``typer._click`` and does not export ``ClickException``, the base
  of every usage error it raises (an unknown option, a missing argument, a value out of
  range): the CLI catches it to print one line instead of click's usage block.
- ``typer.main.get_command_from_info`` and ``get_command_name`` build a single command of
  a Typer app, so that each command's module is imported only when that command runs.
- ``NoArgsIsHelpError`` (click's, vendored) is what a group given no command raises: the
  CLI prints the group's help for it rather than one folded line.
- ``add_options`` gives an already built command more click options (the store options,
  taken after the command name too).
"""

from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperOption
from typer.main import get_command_from_info, get_command_name

__all__ = ["ClickException", "NoArgsIsHelpError", "add_options", "command_named"]


def add_options(command: Any, options: dict[str, tuple[str, str]], callback: Any) -> None:
    """Give ``command`` an option ``flag`` (taking a text value) for each ``name: (flag, help)``,
    handed to ``callback(ctx, param, value)`` rather than to the command's function."""
    taken = {p.name for p in command.params}
    for name, (flag, helptext) in options.items():
        if name not in taken:
            command.params.append(TyperOption(param_decls=[flag, name], default=None, help=helptext,
                                              expose_value=False, callback=callback, metavar="TEXT"))


def command_named(app: typer.Typer, name: str) -> Any:
    """The click command of ``app``'s registered command called ``name``."""
    info = next(i for i in app.registered_commands
                if (i.name or get_command_name(getattr(i.callback, "__name__", ""))) == name)
    return get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                 rich_markup_mode=app.rich_markup_mode)
