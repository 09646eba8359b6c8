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
from taskflow.cli.startup import import_msgspec_lightly

#: Modules that each define ``COMMANDS``; one module per command group.
COMMAND_MODULES: tuple[str, ...] = (
    "taskflow.cli.tui",
    "taskflow.cli.daemon_info",
    "taskflow.cli.tasks",
    "taskflow.cli.runs",
    "taskflow.cli.mark",
    "taskflow.cli.logs",
    "taskflow.cli.artifacts",
    "taskflow.cli.breakers",
    "taskflow.cli.pause",
    "taskflow.cli.plan",
    "taskflow.cli.backfill",
    "taskflow.cli.events",
    "taskflow.cli.validate",
    "taskflow.cli.completion",
    "taskflow.cli.web",
    "taskflow.cli.service",
    "taskflow.cli.fleet",
)

#: Which module defines each command, so a call like ``taskflow status --json`` imports only
#: that module and not every command's dependencies (``validate`` loads the task file
#: parser). A test checks this agrees with ``COMMAND_MODULES``; a command missing here still
#: works, just through the full parser.
COMMAND_HOMES: dict[str, str] = {
    "tui": "taskflow.cli.tui",
    "demo": "taskflow.cli.tui",
    "status": "taskflow.cli.daemon_info",
    "health": "taskflow.cli.daemon_info",
    "audit": "taskflow.cli.daemon_info",
    "reload": "taskflow.cli.daemon_info",
    "ls": "taskflow.cli.tasks",
    "enable": "taskflow.cli.tasks",
    "disable": "taskflow.cli.tasks",
    "run": "taskflow.cli.runs",
    "exec": "taskflow.cli.runs",
    "runs": "taskflow.cli.runs",
    "show": "taskflow.cli.runs",
    "wait": "taskflow.cli.runs",
    "cancel": "taskflow.cli.runs",
    "rerun": "taskflow.cli.runs",
    "mark": "taskflow.cli.mark",
    "logs": "taskflow.cli.logs",
    "artifacts": "taskflow.cli.artifacts",
    "breakers": "taskflow.cli.breakers",
    "pause": "taskflow.cli.pause",
    "resume": "taskflow.cli.pause",
    "plan": "taskflow.cli.plan",
    "backfill": "taskflow.cli.backfill",
    "events": "taskflow.cli.events",
    "validate": "taskflow.cli.validate",
    "completion": "taskflow.cli.completion",
    "web": "taskflow.cli.web",
    "service": "taskflow.cli.service",
    "hosts": "taskflow.cli.fleet",
    "bridge": "taskflow.cli.fleet",
}


def load_commands(modules: Sequence[str] = COMMAND_MODULES) -> list[Command]:
    """Every command of every module in ``modules``, in that order."""
    commands: list[Command] = []
    for module_name in modules:
        commands.extend(importlib.import_module(module_name).COMMANDS)
    return commands


def requested_command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (skipping global options and ``--socket``'s value)."""
    words = iter(argv)
    for word in words:
        if word in ("--socket", "--host"):
            next(words, None)
        elif word == "--" or not word.startswith("-"):
            return None if word == "--" else word
    return None


def _commands_for(argv: Sequence[str]) -> list[Command]:
    """Only the requested command's module when it is known, else every command."""
    home = COMMAND_HOMES.get(requested_command(argv) or "")
    if home is not None:
        commands = [c for c in load_commands((home,)) if c.name == requested_command(argv)]
        if commands:
            return commands
    return load_commands()


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On subparsers the defaults are suppressed so an option given before the command is not
    # overwritten by the subparser's default; both `taskflow --json ls` and `taskflow ls --json`
    # work.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--socket", metavar="PATH", default=default,
                        help="daemon socket (default: $TASKFLOW_SOCKET or the per-user default)")
    parser.add_argument("--host", metavar="NAME", default=default,
                        help="host(s) of hosts.toml: a name, group, glob or comma list (default: $TASKFLOW_HOST or local)")
    parser.add_argument("--json", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="print JSON instead of text")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own formatter, sized without importing ``shutil``.

    argparse builds a formatter for every ``add_argument`` (to check metavars), and the stock
    one imports ``shutil`` (with zlib, bz2 and lzma) just to read the terminal width: a few
    ms of every ``taskflow status --json``, for nothing.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = _terminal_columns() - 2  # the margin argparse keeps
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """What ``shutil.get_terminal_size().columns`` says: $COLUMNS, stdout's terminal, or 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskflow",
        description="Watch and drive taskflowd: task trees, runs, logs, breakers.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"taskflow {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        child = sub.add_parser(command.name, help=command.help, description=command.help,
                               aliases=list(command.aliases), formatter_class=_HelpFormatter)
        _global_options(child, suppress=True)
        command.add_arguments(child)
        child.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None, *, commands: Sequence[Command] | None = None) -> int:
    """Entry point of the ``taskflow`` console script; returns the exit code.

    ``commands`` replaces the registered commands (for embedding the CLI elsewhere).
    """
    try:
        if argv is None:
            argv = sys.argv[1:]
        import_msgspec_lightly()
        parser = build_parser(_commands_for(argv) if commands is None else commands)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        handler = getattr(args, "handler", None)
        if handler is None:
            # No command: open the dashboard, as DESIGN.md says, but only on a terminal; a
            # script or pipe that runs a bare `taskflow` gets the usage instead of a hang.
            if sys.stdin.isatty() and sys.stdout.isatty():
                from taskflow.cli.tui import tui

                return tui(args)
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
    except Exception as exc:
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
