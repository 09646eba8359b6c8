"""``service install|status|logs|uninstall``: taskflowd's systemd unit, managed from taskflow.

The work is in ``taskflow.service`` (layout, rendering, plans, systemd commands); this module
reads the options, shows plans and diffs, asks before replacing a changed unit, and talks to
the daemon (through the client) for its status and its running tasks.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, Command, CommandError

if TYPE_CHECKING:
    from taskflow.model import Run
    from taskflow.service.layout import ServiceLayout
    from taskflow.service.steps import Plan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="service_action", metavar="ACTION", required=True)

    install = _action(actions.add_parser, "install",
                      "write the unit, groups and tasks folder; verify, enable and start it", socket=False)
    install.add_argument("--hardening", action="store_true",
                         help="also install the hardening drop-in (read its header: it breaks sudo in tasks)")
    install.add_argument("--yes", "-y", action="store_true", help="replace a changed unit without asking")
    install.add_argument("--taskflowd", metavar="PATH",
                         help="the taskflowd the unit runs (default: the one beside this taskflow)")
    _plan_options(install)

    status = _action(actions.add_parser, "status", "the unit's state, the daemon's status and the last journal lines")
    status.add_argument("-n", "--lines", type=_count, default=20, metavar="N", help="journal lines (default 20)")

    logs = _action(actions.add_parser, "logs", "the daemon's journal, readably (task output is `taskflow logs RUN`)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument("-n", "--lines", type=_count, default=50, metavar="N", help="last N lines (default 50)")
    logs.add_argument("--since", metavar="TIME", help='as journalctl takes it: "1 hour ago", "2026-12-01 03:00"')

    uninstall = _action(actions.add_parser, "uninstall", "stop and disable the unit and remove what install wrote")
    uninstall.add_argument("--keep-state", action="store_true",
                           help="keep the state folder (runs, output) and the groups, for a later install")
    uninstall.add_argument("--stop-tasks", action="store_true",
                           help="cancel running runs first (default: they are left running, detached)")
    uninstall.add_argument("--timeout", type=float, default=60.0, metavar="S",
                           help="how long --stop-tasks waits for them to end (default 60)")
    _plan_options(uninstall)


def _action(add_parser: Callable[..., argparse.ArgumentParser], name: str, text: str, *,
            socket: bool = True) -> argparse.ArgumentParser:
    """One ``service`` action's parser, with the options the actions share."""
    parser = add_parser(name, help=text, description=text)
    parser.add_argument("--user", action="store_true",
                        help="a user unit (systemctl --user) for this non-root user, with XDG folders")
    # As the main parser does for every command: accepted after the action too.
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    if socket:
        parser.add_argument("--socket", metavar="PATH", default=argparse.SUPPRESS,
                            help="the daemon's socket (default: the unit's)")
    return parser


def _plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print every file and command; change nothing")
    parser.add_argument("--root", metavar="DIR",
                        help="write into the directory tree DIR instead of / (no root or running systemd needed)")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def service(args: argparse.Namespace) -> int:
    from taskflow.service import ServiceError

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "install": install, "status": status, "logs": logs, "uninstall": uninstall,
    }
    try:
        return handlers[args.service_action](args)
    except ServiceError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:  # reading what is there: a file or folder this user may not read
        where = f": {exc.filename}" if exc.filename else ""
        raise CommandError(f"{(exc.strerror or str(exc)).lower()}{where}") from None


def _layout(args: argparse.Namespace) -> ServiceLayout:
    from pathlib import Path

    from taskflow.service.layout import system_layout, user_layout

    root = getattr(args, "root", None)
    if root is not None:
        if not os.path.isdir(root):
            raise CommandError(f"--root {root}: no such directory", EXIT_USAGE)
        root = os.path.abspath(root)
    if args.user:
        return user_layout(os.environ, home=str(Path.home()), uid=os.getuid(), root=root)
    return system_layout(root)


# --------------------------------------------------------------------------- install


def install(args: argparse.Namespace) -> int:
    from taskflow.service import shipped
    from taskflow.service.apply import preflight
    from taskflow.service.observe import observe
    from taskflow.service.plan import plan_install
    from taskflow.service.unit_file import EXAMPLE_TASK, render_drop_in, render_unit

    layout = _layout(args)
    if args.hardening and layout.user:
        raise CommandError("the hardening drop-in needs the system manager (mount namespaces, capabilities); "
                           "leave out --hardening with --user", EXIT_USAGE)
    problems = preflight(layout, "install")
    if problems and not args.dry_run:
        raise CommandError(problems[0])
    taskflowd = os.path.abspath(args.taskflowd) if args.taskflowd else shipped.default_taskflowd()
    if args.taskflowd and layout.root is None and not os.access(taskflowd, os.X_OK):
        raise CommandError(f"--taskflowd {taskflowd}: not an executable file")
    plan = plan_install(
        layout, observe(layout),
        unit=render_unit(shipped.unit_template(), layout=layout, taskflowd=taskflowd),
        drop_in=render_drop_in(shipped.hardening_template()) if args.hardening else None,
        example=EXAMPLE_TASK,
    )
    if args.dry_run:
        return _show_plan(args, plan, problems)
    _confirm_replacements(plan, args.yes)
    _apply(args, plan)
    where = f" in {layout.root}" if layout.root else ""
    _say(args, f"taskflowd's {layout.scope} unit is installed{where}: {layout.on_disk(layout.unit_path)}")
    return EXIT_OK


def _confirm_replacements(plan: Plan, yes: bool) -> None:
    """Show the diff of every file install would change; go on only on ``--yes`` or a yes."""
    from taskflow.service.steps import diff

    replaced = plan.replacements
    if not replaced or yes:
        return
    for step in replaced:
        print("\n".join(diff(step)))
    names = ", ".join(step.path for step in replaced)
    if not sys.stdin.isatty():
        raise CommandError(f"{names} differs from what install writes (diff above); "
                           "re-run with --yes to replace it")
    try:
        answer = input(f"Replace {names}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError(f"nothing changed: {names} was not replaced")


# --------------------------------------------------------------------------- uninstall


def uninstall(args: argparse.Namespace) -> int:
    from taskflow.service.apply import preflight
    from taskflow.service.observe import observe
    from taskflow.service.plan import plan_uninstall
    from taskflow.service.steps import Note
    from taskflow.service.unit_file import EXAMPLE_TASK

    layout = _layout(args)
    problems = preflight(layout, "uninstall")
    if problems and not args.dry_run:
        raise CommandError(problems[0])
    plan = plan_uninstall(layout, observe(layout), keep_state=args.keep_state, example=EXAMPLE_TASK)
    if not plan.changes_anything:  # not installed: say so, and succeed (a re-run is safe)
        if args.dry_run:
            return _show_plan(args, plan, [])
        _say(args, "; ".join(step.text for step in plan.steps if isinstance(step, Note)))
        return EXIT_OK
    running, unasked = _running_runs(args, layout)
    if args.stop_tasks and unasked is not None:
        raise CommandError(f"cannot stop the running tasks: {unasked}; "
                           "leave out --stop-tasks to leave them running, detached")
    if running and args.stop_tasks:
        plan.steps.insert(0, Note(text=f"{_runs(running)}: cancelled first (--stop-tasks)"))
    elif running:
        fate = ("a later install adopts them from the kept state" if args.keep_state else
                "with the state removed no daemon will adopt them (--keep-state keeps that possible)")
        plan.steps.insert(0, Note(text=f"{_runs(running)}: left running, detached; {fate}; "
                                       "--stop-tasks cancels them first"))
    elif unasked is not None and layout.root is None:
        plan.steps.insert(0, Note(text=f"could not ask taskflowd about running tasks ({unasked}); "
                                       "any it left running stay detached"))
    if args.dry_run:
        return _show_plan(args, plan, problems)
    if args.stop_tasks and running:
        _stop_runs(args, layout, running)
    _apply(args, plan)
    _say(args, f"taskflowd's {layout.scope} unit is uninstalled")
    return EXIT_OK


def _daemon_socket(args: argparse.Namespace, layout: ServiceLayout) -> str | None:
    """The daemon to ask: ``--socket``, else the unit's (none for a tree below ``--root``)."""
    explicit: str | None = getattr(args, "socket", None)
    if explicit:
        return explicit
    return None if layout.root is not None else layout.socket


def _running_runs(args: argparse.Namespace, layout: ServiceLayout) -> tuple[list[Run], str | None]:
    """The daemon's running top-level runs, and why it could not be asked (None if it was)."""
    socket = _daemon_socket(args, layout)
    if socket is None:
        return [], "no daemon to ask below --root (give --socket)"
    from taskflow.cli.connection import connect
    from taskflow.model import RunState
    from taskflow.protocol import ListRuns

    try:
        with connect(argparse.Namespace(socket=socket), timeout=5.0) as client:
            runs = [run for state in (RunState.RUNNING, RunState.RETRYING)
                    for run in client.call(ListRuns(state=state, roots_only=True, limit=1000))]
    except CommandError as exc:
        return [], str(exc)
    return runs, None


def _runs(runs: list[Run]) -> str:
    """``2 running runs (deploy 01J…, nightly 01J…)``."""
    names = ", ".join(f"{run.task} {run.id}" for run in runs[:5]) + (", …" if len(runs) > 5 else "")
    return f"{len(runs)} running run{'s' if len(runs) != 1 else ''} ({names})"


def _stop_runs(args: argparse.Namespace, layout: ServiceLayout, runs: list[Run]) -> None:
    """Cancel ``runs`` and wait until each has ended (at most ``--timeout``)."""
    import time

    from taskflow.cli.connection import connect
    from taskflow.protocol import Cancel, GetRun

    with connect(argparse.Namespace(socket=_daemon_socket(args, layout)), timeout=10.0) as client:
        for run in runs:
            client.call(Cancel(run_id=run.id))
        deadline = time.monotonic() + args.timeout
        waiting = [run.id for run in runs]
        while waiting:
            waiting = [run_id for run_id in waiting if not client.call(GetRun(run_id=run_id)).state.terminal]
            if waiting and time.monotonic() > deadline:
                raise CommandError(f"{len(waiting)} cancelled run(s) still running after {args.timeout:g}s "
                                   f"({', '.join(waiting)}); nothing was uninstalled")
            if waiting:
                time.sleep(0.2)
    _say(args, f"cancelled {len(runs)} running run{'s' if len(runs) != 1 else ''}")


# --------------------------------------------------------------------------- plans


def _show_plan(args: argparse.Namespace, plan: Plan, problems: list[str]) -> int:
    """``--dry-run``: every step, with every file's content; nothing is done."""
    from taskflow.service.steps import describe

    if args.json:
        from taskflow.cli.output import print_json

        print_json(plan)
        return EXIT_OK
    where = f" in {plan.layout.root}" if plan.layout.root else ""
    print(f"taskflow service {plan.action} ({plan.layout.scope} unit{where}) would, in this order "
          "(dry run: nothing is changed):")
    for number, step in enumerate(plan.steps, 1):
        first, *rest = describe(step)
        print(f"{number:>2}. {first}")
        for line in rest:
            print(line)
    for problem in problems:
        print(f"note: applying it here would fail now: {problem}")
    return EXIT_OK


def _apply(args: argparse.Namespace, plan: Plan) -> None:
    from taskflow.service.apply import apply

    apply(plan, echo=lambda line: _say(args, line))
    if args.json:
        from taskflow.cli.output import print_json

        print_json(plan)


def _say(args: argparse.Namespace, line: str) -> None:
    """Progress for people: stdout, or stderr when stdout carries ``--json``."""
    print(line, file=sys.stderr if args.json else sys.stdout, flush=True)


# --------------------------------------------------------------------------- status and logs


def status(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import Status
    from taskflow.service import ServiceError, command_lines, systemd_commands
    from taskflow.service.journal import parse_entry
    from taskflow.service.layout import UNIT_NAME
    from taskflow.service.report import ServiceStatus
    from taskflow.service.unit_state import parse_show

    layout = _layout(args)
    report = ServiceStatus()
    try:
        shown = systemd_commands.run(command_lines.show(layout), what=f"systemctl show {UNIT_NAME}")
        report.unit = parse_show(shown.stdout)
    except ServiceError as exc:
        report.unit_error = str(exc)
    try:
        with connect(argparse.Namespace(socket=_daemon_socket(args, layout)), timeout=5.0) as client:
            report.daemon = client.call(Status())
    except CommandError as exc:
        report.daemon_error = str(exc)
    try:
        done = systemd_commands.run(command_lines.journal(layout, lines=args.lines))
        report.journal = [e for e in map(parse_entry, done.stdout.splitlines()) if e is not None]
        report.journal_error = _journal_hint(done.stderr)
    except ServiceError as exc:
        report.journal_error = str(exc)
    if args.json:
        from taskflow.cli.output import print_json

        print_json(report)
    else:
        from taskflow.cli.service_status import print_status

        print_status(report, layout)
    return EXIT_OK if report.ok else EXIT_ERROR


def logs(args: argparse.Namespace) -> int:
    from taskflow.service import command_lines, systemd_commands

    layout = _layout(args)
    argv = command_lines.journal(layout, lines=args.lines, follow=args.follow, since=args.since)
    if args.follow:
        stream = systemd_commands.stream(argv)
        try:
            return _print_journal(args, stream)
        finally:
            stream.close()  # stops journalctl at once on Ctrl-C or a closed pipe
    done = systemd_commands.run(argv)
    hint = _journal_hint(done.stderr)
    if hint:
        print(f"taskflow: {hint}", file=sys.stderr)
    return _print_journal(args, iter(done.stdout.splitlines()))


def _print_journal(args: argparse.Namespace, lines: Iterator[str]) -> int:
    from taskflow.service.journal import parse_entry

    if args.json:
        from taskflow.cli.output import print_json

        for entry in map(parse_entry, lines):
            if entry is not None:
                print_json(entry, pretty=False)
        return EXIT_OK
    from taskflow.cli.service_status import print_entries

    print_entries(entry for entry in map(parse_entry, lines) if entry is not None)
    return EXIT_OK


def _journal_hint(stderr: str) -> str | None:
    """What journalctl said beside its lines ("you are not seeing messages from ..."), if anything."""
    said = " ".join(line.strip() for line in stderr.splitlines() if line.strip())
    return f"journalctl: {said}" if said else None


COMMANDS = (
    Command("service", "taskflowd's systemd unit: service install|status|logs|uninstall",
            add_arguments, service),
)
