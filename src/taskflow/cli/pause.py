"""``pause`` / ``resume [--pool P | --task T | --all]``: hold queued work, then release it.

Running work goes on; queued runs of what is paused stay ``queued`` until the resume (a pool
whose configured limit is 0 is paused the same way, until the config changes). A paused
task's schedule does not fire; on resume, what it missed follows its ``missed`` policy. The
pauses are kept across daemon restarts, and shown by ``status`` and ``ls``.
"""

from __future__ import annotations

import argparse

from taskflow.cli import EXIT_OK, EXIT_USAGE, Command, CommandError


def _arguments(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--pool", metavar="P", help="only this pool's queued runs")
    scope.add_argument("--task", metavar="T", help="only this task's (and its subtree's) queued runs")
    scope.add_argument("--all", action="store_true", help="everything (resume --all lifts every pause)")


def pause(args: argparse.Namespace) -> int:
    return _call(args, resume=False)


def resume(args: argparse.Namespace) -> int:
    return _call(args, resume=True)


def describe(info: object) -> str:
    """One line: what is paused now."""
    from taskflow.protocol import PauseInfo

    assert isinstance(info, PauseInfo)
    parts = ["everything"] if info.all else []
    parts += [f"pool {pool}" for pool in info.pools]
    parts += [f"pool {pool} (limit 0)" for pool in info.zero_pools if pool not in info.pools]
    parts += [f"task {task}" for task in info.tasks]
    return "paused: " + ", ".join(parts) if parts else "nothing is paused"


def _call(args: argparse.Namespace, *, resume: bool) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json
    from taskflow.protocol import Pause, Resume

    verb = "resume" if resume else "pause"
    if not (args.all or args.pool or args.task):
        raise CommandError(f"say what to {verb}: --pool P, --task T or --all", EXIT_USAGE)
    request = (Resume if resume else Pause)(all=args.all, pool=args.pool, task=args.task)
    with connect(args) as client:
        info = client.call(request)
    if args.json:
        print_json(info)
    else:
        print(describe(info))
    return EXIT_OK


COMMANDS = (
    Command("pause", "hold queued work (running work goes on): --pool P | --task T | --all", _arguments, pause),
    Command("resume", "release paused work: --pool P | --task T | --all", _arguments, resume),
)
