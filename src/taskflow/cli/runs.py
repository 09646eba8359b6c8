"""Starting and watching runs: ``run``, ``exec``, ``runs``, ``show``, ``wait``, ``cancel``,
``rerun``.

``run`` and ``exec`` print the new run's id on stdout (so ``id=$(taskflow run x)`` works);
with ``--wait`` they then wait and exit 3 unless the run succeeded.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from taskflow.cli import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, Command, CommandError

if TYPE_CHECKING:  # the client and the protocol are imported by each handler, when it runs
    from taskflow.client import Client
    from taskflow.model import Run
    from taskflow.protocol import Exec, RunRef, TriggerTask

RUN_STATES = ("pending", "queued", "running", "retrying", "blocked", "succeeded", "failed",
              "cancelled", "skipped", "interrupted")


def parse_param(text: str) -> tuple[str, Any]:
    """``K=V`` → ``(K, V)``; V is JSON when it parses as JSON (``3``, ``true``), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CommandError(f"-p expects KEY=VALUE, got {text!r}", EXIT_USAGE)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _duration(text: str) -> float:
    from taskflow.model import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ------------------------------------------------------------------------- run / exec

def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="task or tree to run, e.g. nightly/verify; several names start a run each")
    parser.add_argument("-p", "--param", dest="params", action="append", default=[],
                        metavar="K=V", help="parameter (repeatable); V is parsed as JSON when it can be")
    parser.add_argument("--from-file", metavar="FILE",
                        help="one run per line of FILE (- for stdin): NAME [K=V ...]")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the run to end; exit 3 if it did not succeed")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="TIME", type=_start_time,
                      help="start at TIME (2026-12-01T03:00:00Z, or 03:00 for the next 03:00 local time)")
    when.add_argument("--in", dest="delay", metavar="DURATION", type=_duration,
                      help="start after DURATION (90s, 10m, 2h)")
    parser.add_argument("--priority", type=int, choices=range(4), metavar="N",
                        help="0 urgent, 1 high, 2 normal, 3 low (overrides the task's)")


def _start_time(text: str) -> Any:
    """``--at``: an RFC 3339 time, or ``HH:MM`` (local time, the next one to come)."""
    from datetime import UTC, datetime, timedelta

    try:
        if len(text) <= 5 and ":" in text:
            hour, minute = (int(part) for part in text.split(":"))
            now = datetime.now().astimezone()
            when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            return (when if when > now else when + timedelta(days=1)).astimezone(UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r} (use 2026-12-01T03:00:00Z or HH:MM)") from None
    return (when if when.tzinfo else when.astimezone()).astimezone(UTC)


def _when(args: argparse.Namespace) -> dict[str, Any]:
    """The ``at`` and ``priority`` of ``run``'s triggers."""
    from datetime import UTC, datetime, timedelta

    at = args.at
    if args.delay is not None:
        at = datetime.now(UTC) + timedelta(seconds=args.delay)
    return {"at": at, "priority": args.priority}


def run(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import TriggerTask

    params = dict(parse_param(p) for p in args.params)
    if args.from_file is None and len(args.names) == 1:
        return _start_one(args, TriggerTask(task=args.names[0], params=params, **_when(args)))
    if args.from_file is not None and args.names:
        raise CommandError("give task names or --from-file, not both", EXIT_USAGE)
    if not args.names and args.from_file is None:
        raise CommandError("run needs a task name, e.g. taskflow run nightly", EXIT_USAGE)
    from taskflow.cli.bulk import read_lines, submit_all

    if args.from_file is None:
        lines = [(0, name) for name in args.names]
        requests = [TriggerTask(task=name, params=params, **_when(args)) for name in args.names]
    else:
        lines = read_lines(args.from_file)
        requests = [_trigger_line(number, text, params) for number, text in lines]
    with connect(args) as client:
        return submit_all(args, client, requests, [number for number, _ in lines])


def _trigger_line(number: int, text: str, params: dict[str, Any]) -> TriggerTask:
    """``NAME [K=V ...]`` of a ``--from-file`` line; its parameters override ``-p``."""
    import shlex

    from taskflow.protocol import TriggerTask

    try:
        name, *pairs = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"line {number}: {exc}", EXIT_USAGE) from None
    try:
        line_params = dict(parse_param(pair) for pair in pairs)
    except CommandError as exc:
        raise CommandError(f"line {number}: {exc}", EXIT_USAGE) from None
    return TriggerTask(task=name, params={**params, **line_params})


def _exec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", metavar="N", help="label of the ad-hoc task (shown as @N)")
    parser.add_argument("--timeout", metavar="S", type=_duration, help="kill it after S (30, 90s, 5m)")
    parser.add_argument("--retries", metavar="N", type=int, default=0, help="retries on failure")
    parser.add_argument("--cwd", metavar="DIR", help="working directory on the daemon's host")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the run to end; exit 3 if it did not succeed")
    parser.add_argument("--from-file", metavar="FILE",
                        help="one run per line of FILE (- for stdin), each line a /bin/sh command")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...",
                        help="the command (argv); one argument with spaces runs under /bin/sh -c")


def exec_command(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import Exec

    argv = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if args.from_file is not None:
        if argv:
            raise CommandError("give a command or --from-file, not both", EXIT_USAGE)
        from taskflow.cli.bulk import read_lines, submit_all

        lines = read_lines(args.from_file)
        requests = [Exec(command=["/bin/sh", "-c", text], name=args.name or _program(text), timeout=args.timeout,
                         retries=args.retries, cwd=args.cwd) for _, text in lines]
        with connect(args) as client:
            return submit_all(args, client, requests, [number for number, _ in lines])
    if not argv:
        raise CommandError("exec needs a command after --, e.g. taskflow exec -- df -h", EXIT_USAGE)
    name = args.name
    if len(argv) == 1 and any(c.isspace() for c in argv[0]):
        name = name or _program(argv[0])
        argv = ["/bin/sh", "-c", argv[0]]
    return _start_one(args, Exec(command=argv, name=name, timeout=args.timeout,
                                 retries=args.retries, cwd=args.cwd))


def _start_one(args: argparse.Namespace, request: TriggerTask | Exec) -> int:
    """Start one run, or one on each host when ``--host`` names several (``cli/fleet.py``)."""
    from taskflow.cli.connection import connect
    from taskflow.cli.host_choice import several_hosts

    if several_hosts(args):
        from taskflow.cli import fleet

        return fleet.fan_out(args, request)
    with connect(args) as client:
        return _started(args, client, client.call(request))


def _program(shell_line: str) -> str | None:
    """What an ad-hoc shell line is named after: its first word's program (``@rsync``, not
    ``@sh``), or None to let the daemon choose."""
    words = shell_line.split()
    return (words[0].rsplit("/", 1)[-1] or None) if words else None


def _started(args: argparse.Namespace, client: Client, ref: RunRef) -> int:
    """Report a new run; with ``--wait``, wait for it and report how it ended."""
    from taskflow.cli.output import print_json

    if not args.wait:
        if args.json:
            print_json(ref)
        else:
            print(ref.id, flush=True)
        return EXIT_OK
    if not args.json:
        print(ref.id, flush=True)
    from taskflow.cli.waiting import wait_for_run

    final = wait_for_run(client, ref.id)
    # stdout keeps only the run id, so `id=$(taskflow run x --wait)` still works.
    return _ended(args, final, to_stderr=True)


def _ended(args: argparse.Namespace, final: Run, *, to_stderr: bool = False) -> int:
    """Print a finished run (JSON: the final Run) and map its state to the exit code."""
    from taskflow.cli.output import print_json
    from taskflow.model import RunState

    if args.json:
        print_json(final)
    else:
        from taskflow.cli.output import console, ended_line

        console(stderr=to_stderr).print(ended_line(final))
    return EXIT_OK if final.state == RunState.SUCCEEDED else EXIT_RUN_FAILED


# ------------------------------------------------------------------------- runs / show

def _runs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", choices=RUN_STATES, metavar="S",
                        help="only runs in this state (" + ", ".join(RUN_STATES) + ")")
    parser.add_argument("--task", metavar="NAME", help="only runs of this task")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="newest N (default 20)")


def runs(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json
    from taskflow.model import RunState
    from taskflow.protocol import ListRuns

    if args.limit < 1:
        raise CommandError("--limit must be at least 1", EXIT_USAGE)
    from taskflow.cli.host_choice import several_hosts

    if several_hosts(args):
        from taskflow.cli import fleet

        return fleet.runs(args)
    state = RunState(args.state) if args.state else None
    with connect(args) as client:
        found = client.call(ListRuns(state=state, task=args.task, limit=args.limit,
                                     roots_only=args.task is None))
    if args.json:
        print_json(found)
        return EXIT_OK
    from rich.table import Table

    from taskflow.cli.output import console, local_time, plain, run_detail, state_text
    from taskflow.model import format_duration

    table = Table(box=None, header_style="bold")
    for column in ("run", "task", "state", "trigger", "started", "took", "by"):
        table.add_column(column)
    for item in found:
        table.add_row(item.id, plain(item.task), state_text(item.state, run_detail(item)),
                      str(item.trigger), local_time(item.started_at or item.created_at),
                      format_duration(item.duration), plain(item.requested_by or "-"))
    out = console()
    out.print(table if found else "no runs")
    return EXIT_OK


def _run_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN", help="run id (or a unique start or end of a recent one)")


#: Trees up to this many runs are fetched whole and drawn in full; bigger ones are summarized
#: (counts by state, the leaves in trouble) unless ``--all`` or ``--json`` asks for every run.
SHOW_IN_FULL = 500


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    _run_argument(parser)
    parser.add_argument("--all", action="store_true",
                        help=f"draw every run even of a tree bigger than {SHOW_IN_FULL} runs")


def show(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, run_id_of
    from taskflow.cli.host_choice import several_hosts

    if several_hosts(args):
        from taskflow.cli import fleet

        return fleet.show(args)
    from taskflow.cli.output import print_json
    from taskflow.cli.tree_pages import fetch_tree
    from taskflow.protocol import ShowRun, SummarizeRun

    with connect(args) as client:
        run_id = run_id_of(client, args.run_id)
        summary = client.call(SummarizeRun(run_id=run_id))
        whole = summary.nodes <= SHOW_IN_FULL or args.json or args.all
        if whole:
            tree = client.call(ShowRun(run_id=run_id)) if summary.nodes <= SHOW_IN_FULL else fetch_tree(client, run_id)
    if args.json:
        print_json(tree)
        return EXIT_OK
    from taskflow.cli.output import console
    from taskflow.cli.tree_view import run_summary_view, run_tree_view

    console().print(run_tree_view(tree) if whole else run_summary_view(summary))
    return EXIT_OK


# ------------------------------------------------------------------------- wait / cancel / rerun

def _wait_arguments(parser: argparse.ArgumentParser) -> None:
    _run_argument(parser)
    parser.add_argument("--timeout", metavar="S", type=_duration,
                        help="give up after S (30, 90s, 5m): exit 1")


def wait(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, run_id_of
    from taskflow.cli.waiting import wait_for_run

    with connect(args) as client:
        final = wait_for_run(client, run_id_of(client, args.run_id), args.timeout)
    return _ended(args, final)


def cancel(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, run_id_of
    from taskflow.cli.output import print_json
    from taskflow.protocol import Cancel

    with connect(args) as client:
        ref = client.call(Cancel(run_id=run_id_of(client, args.run_id)))
    if args.json:
        print_json(ref)
    else:
        print(f"cancelling {ref.id} ({ref.task})")
    return EXIT_OK


def _rerun_arguments(parser: argparse.ArgumentParser) -> None:
    _run_argument(parser)
    parser.add_argument("--failed-only", action="store_true",
                        help="rerun only the nodes that did not succeed")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the new run to end; exit 3 if it did not succeed")


def rerun(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, run_id_of
    from taskflow.protocol import Rerun

    with connect(args) as client:
        ref = client.call(Rerun(run_id=run_id_of(client, args.run_id),
                                failed_only=args.failed_only))
        return _started(args, client, ref)


COMMANDS = (
    Command("run", "trigger a task or tree; prints the run id", _run_arguments, run),
    Command("exec", "run an ad-hoc command as a one-off task: exec [options] -- CMD ...",
            _exec_arguments, exec_command),
    Command("runs", "run history, newest first", _runs_arguments, runs),
    Command("show", "one run tree with its attempts (a big one summarized; --all draws it all)",
            _show_arguments, show),
    Command("wait", "block until a run is terminal: exit 0 succeeded, 3 otherwise",
            _wait_arguments, wait),
    Command("cancel", "cancel a run and its whole tree", _run_argument, cancel),
    Command("rerun", "start a run again as a new run", _rerun_arguments, rerun),
)
