"""``taskflow``: parse the command line, dispatch to a command module, map failures to exit codes.

Users see one sentence on stderr for any failure, never a traceback (set ``TASKFLOW_DEBUG=1``
to get one). Exit codes: 0 ok, 1 error, 2 usage, 3 a waited-for run did not succeed,
130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from taskflow import __version__
from taskflow.cli import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Command,
    CommandError,
)

#: Modules that each define ``COMMANDS``; one module per command group.
COMMAND_MODULES: tuple[str, ...] = ("taskflow.cli.validate",)


def load_commands() -> list[Command]:
    """Every command of every module in ``COMMAND_MODULES``, in that order."""
    commands: list[Command] = []
    for module_name in COMMAND_MODULES:
        commands.extend(importlib.import_module(module_name).COMMANDS)
    return commands


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On subparsers the defaults are suppressed so an option given before the command is not
    # overwritten by the subparser's default; both `taskflow --json ls` and `taskflow ls --json`
    # work.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--socket", metavar="PATH", default=default,
                        help="daemon socket (default: $TASKFLOW_SOCKET or the per-user default)")
    parser.add_argument("--json", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="print JSON instead of text")


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskflow",
        description="Watch and drive taskflowd: task trees, runs, logs, breakers.",
    )
    parser.add_argument("--version", action="version", version=f"taskflow {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        child = sub.add_parser(command.name, help=command.help, description=command.help,
                               aliases=list(command.aliases))
        _global_options(child, suppress=True)
        command.add_arguments(child)
        child.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None, *, commands: Sequence[Command] | None = None) -> int:
    """Entry point of the ``taskflow`` console script; returns the exit code.

    ``commands`` replaces the registered commands (for embedding the CLI elsewhere).
    """
    try:
        parser = build_parser(load_commands() if commands is None else commands)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        handler = getattr(args, "handler", None)
        if handler is None:
            # The TUI will open here; until then, show what there is.
            parser.print_help()
            return EXIT_OK
        return int(handler(args))
    except KeyboardInterrupt:
        print("taskflow: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CommandError as exc:
        print(f"taskflow: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        # The reader (`| head`) went away; say nothing more and do not fail at exit flush.
        _silence_stdout()
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("TASKFLOW_DEBUG"):
            raise
        print(f"taskflow: unexpected error ({type(exc).__name__}: {exc}); "
              "set TASKFLOW_DEBUG=1 for details", file=sys.stderr)
        return EXIT_ERROR


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
