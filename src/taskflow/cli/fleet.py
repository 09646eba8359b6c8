"""Many hosts from one seat: ``hosts``, ``bridge``, and the multi-host forms of the commands.

``--host`` (or ``$TASKFLOW_HOST``) names one host of ``hosts.toml``, a group, a glob or a
comma list. Read commands asked of several hosts (``status``, ``ls``, ``runs``, ``show``,
``breakers``, ``hosts``) ask them all at once, one ssh connection each, and merge the
answers: a ``host`` field on every ``--json`` item, a HOST column in text. ``run`` and
``exec`` fan out: one run per host, and with ``--wait`` one line per host. A host that
cannot be reached (or refuses) is one sentence on stderr; the others still print, and the
exit code is then 1 (for ``run``/``exec --wait``: 1 if a host could not start the run, else
3 if a run did not succeed). Every other command acts on one host only.

Imported only when a host is named (and for ``hosts``/``bridge``): the local path of every
command never reads ``hosts.toml``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from taskflow.cli import EXIT_ERROR, EXIT_OK, EXIT_RUN_FAILED, Command, CommandError
from taskflow.cli.host_choice import selection

if TYPE_CHECKING:
    from taskflow.client import Client
    from taskflow.client.hosts import Host
    from taskflow.protocol import Request, RunRef


# ------------------------------------------------------------------------- asking hosts

class Answer(NamedTuple):
    """One host's part of a multi-host command: its result, or why it has none."""

    host: Host
    value: Any = None
    error: str | None = None


def each_host(args: argparse.Namespace, hosts: list[Host], ask: Callable[[Client], Any],
              timeout: float = 10.0) -> list[Answer]:
    """``ask`` each host on its own connection, all at once; answers in ``hosts``' order."""
    from concurrent.futures import ThreadPoolExecutor

    from taskflow.cli.connection import sentence
    from taskflow.client import Client, ClientError

    def one(host: Host) -> Answer:
        try:
            with Client.connect_host(host, getattr(args, "socket", None), timeout=timeout) as client:
                return Answer(host, ask(client))
        except ClientError as exc:
            return Answer(host, error=sentence(exc))
        except CommandError as exc:
            return Answer(host, error=str(exc))

    if len(hosts) == 1:
        return [one(hosts[0])]
    with ThreadPoolExecutor(max_workers=min(16, len(hosts))) as pool:
        return list(pool.map(one, hosts))


def report(answers: list[Answer]) -> int:
    """Say, one sentence each, which hosts gave no answer; exit 1 if any, else 0."""
    failed = [a for a in answers if a.error is not None]
    for answer in failed:
        error = answer.error or ""
        # the transport's sentences already name the host
        print(f"taskflow: {error if answer.host.name in error else f'{answer.host.name}: {error}'}",
              file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def listed(args: argparse.Namespace, ask: Callable[[Client], Any]) -> tuple[int, list[tuple[str, Any]]]:
    """Ask every selected host for a list; the exit code (unreachable hosts reported) and
    each item with its host's name."""
    answers = each_host(args, selection(args).hosts, ask)
    return report(answers), [(a.host.name, item) for a in answers if a.error is None for item in a.value]


def tagged(host: str, value: Any) -> dict[str, Any]:
    """A Struct as JSON-ready builtins with ``host`` first."""
    import msgspec

    return {"host": host, **msgspec.to_builtins(value)}


# ------------------------------------------------------------------------- hosts / bridge

def _hosts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only check hosts.toml offline (file: key: reason per problem); exit 1 on any")


def hosts(args: argparse.Namespace) -> int:
    """Each host: reachable, version, user and role, workers busy/max, queued, load."""
    from taskflow.client.hosts import HostsError, hosts_path, load_hosts

    if args.check:
        try:
            fleet = load_hosts(missing_ok=False)
        except HostsError as exc:
            for problem in exc.problems:
                print(problem)
            print(f"taskflow: {len(exc.problems)} problem(s) in {hosts_path()}", file=sys.stderr)
            return EXIT_ERROR
        print(f"{fleet.path}: {len(fleet.hosts)} hosts, {len(fleet.groups)} groups, ok")
        return EXIT_OK
    from taskflow.protocol import Status

    chosen = selection(args, default_all=True)
    answers = each_host(args, chosen.hosts, lambda client: (client.welcome, client.call(Status())))
    rows = []
    for answer in answers:
        row: dict[str, Any] = {"host": answer.host.name, "ssh": answer.host.ssh, "reachable": answer.error is None}
        if answer.error is None:
            welcome, status = answer.value
            row.update(version=status.version, user=welcome.user, role=str(welcome.role),
                       workers_busy=status.workers_busy, workers_max=status.workers_max,
                       queued=status.queued, running=status.counts.get("running", 0),
                       load=status.load, error=None)
        else:
            row.update(version=None, user=None, role=None, workers_busy=None, workers_max=None,
                       queued=None, running=None, load=None, error=answer.error)
        rows.append(row)
    code = report(answers)
    if args.json:
        from taskflow.cli.output import print_json

        print_json(rows)
        return code
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import console, plain

    table = Table(box=None, header_style="bold")
    for column in ("host", "ssh", "reachable", "version", "role", "workers", "queued", "load"):
        table.add_column(column)
    for row in rows:
        if not row["reachable"]:
            table.add_row(plain(row["host"]), plain(row["ssh"] or "-"), Text("no", style="bold red"),
                          "-", "-", "-", "-", "-")
            continue
        load = " ".join(f"{x:.2f}" for x in row["load"]) if row["load"] else "-"
        table.add_row(plain(row["host"]), plain(row["ssh"] or "-"), Text("yes", style="green"),
                      row["version"], plain(f"{row['role']} ({row['user']})"),
                      f"{row['workers_busy']}/{row['workers_max']}", str(row["queued"]), load)
    console().print(table)
    return code


def _bridge_arguments(parser: argparse.ArgumentParser) -> None:
    """``bridge`` takes only the global ``--socket`` (the remote daemon's socket)."""


def bridge(args: argparse.Namespace) -> int:
    """``taskflow [--socket P] bridge`` through the full parser (``taskflow.console`` sends a
    plain ``taskflow bridge`` to the relay without loading the CLI at all)."""
    from taskflow.bridge import relay
    from taskflow.client.paths import resolve_socket_path

    return relay(resolve_socket_path(args.socket))


# ------------------------------------------------------------------------- merged reads

def _print_merged(args: argparse.Namespace, items: list[dict[str, Any]]) -> bool:
    """Print ``items`` as the JSON document when ``--json``; say whether it did."""
    if args.json:
        from taskflow.cli.output import print_json

        print_json(items)
    return bool(args.json)


def status(args: argparse.Namespace) -> int:
    from taskflow.protocol import Status

    answers = each_host(args, selection(args).hosts, lambda client: client.call(Status()))
    code = report(answers)
    found = [(a.host.name, a.value) for a in answers if a.error is None]
    if _print_merged(args, [tagged(host, info) for host, info in found]):
        return code
    from rich.table import Table

    from taskflow.cli.output import STATE_STYLES, console, plain
    from taskflow.model import format_duration

    table = Table(box=None, header_style="bold")
    for column in ("host", "version", "pid", "up", "workers", "queued", "tasks", "runs"):
        table.add_column(column)
    for host, info in found:
        counts = ", ".join(f"[{STATE_STYLES.get(state, '')}]{count} {state}[/]"
                           for state, count in sorted(info.counts.items()) if count)
        table.add_row(plain(host), info.version, str(info.pid), format_duration(info.uptime),
                      f"{info.workers_busy}/{info.workers_max}", str(info.queued), str(info.tasks),
                      counts or "none yet")
    console().print(table)
    return code


def ls(args: argparse.Namespace) -> int:
    from taskflow.protocol import PageTasks, TaskInfo

    def ask(client: Client) -> list[TaskInfo]:
        tasks: list[TaskInfo] = []
        after: str | None = None
        while True:
            page = client.call(PageTasks(enabled=args.enabled, tag=args.tag, after=after))
            tasks.extend(page.tasks)
            if (after := page.next_after) is None:
                return tasks

    code, found = listed(args, ask)
    if _print_merged(args, [tagged(host, task) for host, task in found]):
        return code
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import age, console, plain, state_text

    table = Table(box=None, header_style="bold")
    for column in ("host", "task", "kind", "enabled", "schedule", "last run"):
        table.add_column(column)
    for host, task in found:
        enabled = Text("orphaned" if task.orphaned else "yes" if task.enabled else "no",
                       style="bold red" if task.orphaned else "green" if task.enabled else "yellow")
        last = state_text(task.last_state) if task.last_state else Text("-", style="dim")
        if task.last_finished_at:
            last.append(f" {age(task.last_finished_at)}", style="dim")
        table.add_row(plain(host), plain(task.name), task.kind, enabled, plain(task.schedule or "-"), last)
    console().print(table if found else "no tasks")
    return code


def runs(args: argparse.Namespace) -> int:
    """Each host's newest ``--limit`` runs, merged newest first."""
    from taskflow.model import RunState
    from taskflow.protocol import ListRuns

    state = RunState(args.state) if args.state else None
    code, found = listed(args, lambda client: client.call(
        ListRuns(state=state, task=args.task, limit=args.limit, roots_only=args.task is None)))
    found.sort(key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)
    if _print_merged(args, [tagged(host, run) for host, run in found]):
        return code
    from rich.table import Table

    from taskflow.cli.output import console, local_time, plain, run_detail, state_text
    from taskflow.model import format_duration

    table = Table(box=None, header_style="bold")
    for column in ("host", "run", "task", "state", "trigger", "started", "took", "by"):
        table.add_column(column)
    for host, item in found:
        table.add_row(plain(host), item.id, plain(item.task), state_text(item.state, run_detail(item)),
                      str(item.trigger), local_time(item.started_at or item.created_at),
                      format_duration(item.duration), plain(item.requested_by or "-"))
    console().print(table if found else "no runs")
    return code


def breakers(args: argparse.Namespace) -> int:
    from taskflow.protocol import ListBreakers

    code, found = listed(args, lambda client: client.call(ListBreakers()))
    if _print_merged(args, [tagged(host, state) for host, state in found]):
        return code
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import BREAKER_STYLES, age, console, plain

    table = Table(box=None, header_style="bold")
    for column in ("host", "service", "breaker", "failures", "opened", "tripped by"):
        table.add_column(column)
    for host, state in found:
        status = str(state.status)
        table.add_row(plain(host), plain(state.service), Text(status, style=BREAKER_STYLES.get(status, "")),
                      str(state.consecutive_failures), age(state.opened_at), plain(state.tripped_by or "-"))
    console().print(table if found else "no services")
    return code


def show(args: argparse.Namespace) -> int:
    """The run tree on whichever host has the run (run ids are ULIDs: unique across hosts)."""
    from taskflow.cli.connection import run_id_of
    from taskflow.cli.tree_pages import fetch_tree

    def ask(client: Client) -> Any:
        from taskflow.client import ClientError
        from taskflow.protocol import ErrorCode

        try:
            run_id = run_id_of(client, args.run_id)
            return fetch_tree(client, run_id)
        except ClientError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                return None
            raise
        except CommandError as exc:
            if str(exc).startswith("no run "):
                return None
            raise

    answers = each_host(args, selection(args).hosts, ask)
    code = report(answers)
    found = [(a.host.name, a.value) for a in answers if a.error is None and a.value is not None]
    if not found:
        raise CommandError(f"no run {args.run_id} on {len(answers)} hosts" if code == EXIT_OK
                           else f"no run {args.run_id} on the hosts that answered")
    if args.json:
        from taskflow.cli.output import print_json

        print_json(tagged(*found[0]) if len(found) == 1 else [tagged(host, tree) for host, tree in found])
        return code
    from taskflow.cli.output import console
    from taskflow.cli.tree_view import run_tree_view

    out = console()
    for host, tree in found:
        out.print(f"[bold]{host}[/]")
        out.print(run_tree_view(tree))
    return code


# ------------------------------------------------------------------------- fan-out

def fan_out(args: argparse.Namespace, request: Request[RunRef]) -> int:
    """Start ``request`` (a ``TriggerTask`` or an ``Exec``) on every chosen host: one line per
    host, ``HOST  RUN_ID``; with ``--wait``, ``HOST  STATE  RUN_ID  TASK  TOOK  MESSAGE`` once
    each has ended. Exit 1 if a host could not start it, else 3 if a run did not succeed."""
    from taskflow.cli.waiting import wait_for_run
    from taskflow.model import RunState

    def ask(client: Client) -> Any:
        ref = client.call(request)
        return wait_for_run(client, ref.id) if args.wait else ref

    answers = each_host(args, selection(args).hosts, ask)
    code = report(answers)
    started = [(a.host.name, a.value) for a in answers if a.error is None]
    if args.json:
        from taskflow.cli.output import print_json

        print_json([tagged(host, value) for host, value in started])
    elif not args.wait:
        for host, ref in started:
            print(f"{host}  {ref.id}")
    else:
        from rich.text import Text

        from taskflow.cli.output import console, ended_line

        out = console()
        width = max((len(host) for host, _ in started), default=0)
        for host, run in started:
            out.print(Text(f"{host:<{width}}  ").append_text(ended_line(run, with_id=True)))
    if code == EXIT_OK and args.wait and any(run.state != RunState.SUCCEEDED for _, run in started):
        return EXIT_RUN_FAILED
    return code


COMMANDS = (
    Command("hosts", "the hosts of hosts.toml: reachable, version, role, workers, load",
            _hosts_arguments, hosts),
    Command("bridge", "relay stdin/stdout to the local daemon's socket (what `ssh HOST taskflow bridge` runs)",
            _bridge_arguments, bridge),
)
