"""The ``taskflow`` command line: one module per command group, plugged into ``main``.

A command module exposes ``COMMANDS``, a tuple of ``Command``. Its top level must stay cheap
to import (argparse needs every command's arguments on each call): import the client,
asyncio or Rich inside the handler, not at module level. ``main.COMMAND_MODULES`` lists the
modules.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

#: Exit codes shared by every command (DESIGN.md "Commands").
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_RUN_FAILED = 3
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure to show the user as one sentence on stderr (exit ``code``)."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class Command(NamedTuple):
    """One subcommand: its name, one-line help, how it reads its arguments, what it does.

    ``run`` gets the parsed arguments (with the global ``socket`` and ``json`` options) and
    returns the exit code. (A ``NamedTuple`` rather than a dataclass: ``dataclasses`` costs
    more to import than the rest of ``taskflow status``.)
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    aliases: tuple[str, ...] = ()
