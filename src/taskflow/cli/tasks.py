"""``ls``, ``enable`` and ``disable``: task definitions and their on/off switch."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_OK, Command

if TYPE_CHECKING:  # the protocol is imported by each handler, when it runs
    from taskflow.protocol import DisableTask, EnableTask


def _ls_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--enabled", dest="enabled", action="store_const", const=True,
                       default=None, help="only enabled tasks")
    which.add_argument("--disabled", dest="enabled", action="store_const", const=False,
                       help="only disabled tasks")
    parser.add_argument("--tag", metavar="T", help="only tasks with this tag")


def ls(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.host_choice import several_hosts

    if several_hosts(args):
        from taskflow.cli import fleet

        return fleet.ls(args)
    from taskflow.cli.output import print_json
    from taskflow.protocol import PageTasks, TaskInfo

    tasks: list[TaskInfo] = []
    after: str | None = None
    with connect(args) as client:
        while True:  # a page at a time: ten thousand definitions do not fit in one frame
            page = client.call(PageTasks(enabled=args.enabled, tag=args.tag, after=after))
            tasks.extend(page.tasks)
            if (after := page.next_after) is None:
                break
    if args.json:
        print_json(tasks)
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import age, console, plain, state_text

    table = Table(box=None, header_style="bold")
    for column in ("task", "kind", "enabled", "schedule", "next run", "last run"):
        table.add_column(column)
    for task in tasks:
        depth = task.name.count("/")
        name = Text("  " * depth + task.name.rsplit("/", 1)[-1] if depth else task.name,
                    style="" if task.enabled else "dim")
        if task.orphaned:
            enabled = Text("orphaned", style="bold red")
        elif task.enabled:
            enabled = Text("yes", style="green")
        else:
            enabled = Text("no", style="yellow")
        if task.disabled_reason:
            enabled.append(f" ({task.disabled_reason})", style="dim")
        if task.paused:
            enabled.append(" paused", style="bold yellow")
        last = state_text(task.last_state) if task.last_state else Text("-", style="dim")
        if task.last_finished_at:
            last.append(f" {age(task.last_finished_at)}", style="dim")
        table.add_row(name, task.kind, enabled, plain(task.schedule or "-"),
                      age(task.next_run) if task.next_run else "-", last)
    out = console()
    if tasks:
        out.print(table)
    else:
        out.print("no tasks match" if args.enabled is not None or args.tag else "no tasks loaded")
    return EXIT_OK


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="task name, e.g. nightly or nightly/backup")


def _disable_arguments(parser: argparse.ArgumentParser) -> None:
    _name_argument(parser)
    parser.add_argument("--reason", metavar="TEXT", default="",
                        help="why, shown next to the task in ls and the TUI")


def enable(args: argparse.Namespace) -> int:
    from taskflow.protocol import EnableTask

    return _toggle(args, EnableTask(name=args.name))


def disable(args: argparse.Namespace) -> int:
    from taskflow.protocol import DisableTask

    return _toggle(args, DisableTask(name=args.name, reason=args.reason))


def _toggle(args: argparse.Namespace, request: EnableTask | DisableTask) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json

    with connect(args) as client:
        info = client.call(request)
    if args.json:
        print_json(info)
    elif info.enabled:
        print(f"{info.name}: enabled")
    else:
        reason = f" ({info.disabled_reason})" if info.disabled_reason else ""
        print(f"{info.name}: disabled{reason}")
    return EXIT_OK


COMMANDS = (
    Command("ls", "task definitions: name, kind, enabled, schedule, next run, last state",
            _ls_arguments, ls),
    Command("enable", "enable a task so it can be triggered and fire on schedule",
            _name_argument, enable),
    Command("disable", "disable a task: it cannot be triggered or fire on schedule",
            _disable_arguments, disable),
)
