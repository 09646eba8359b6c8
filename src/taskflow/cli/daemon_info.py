"""``status``, ``health``, ``audit`` and ``reload``: the daemon itself rather than its tasks.

``status --json`` is what monitoring scripts poll, so this module and its handler import
nothing beyond the blocking client (no asyncio, no Rich) on that path.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_ERROR, EXIT_OK, Command

if TYPE_CHECKING:  # the protocol is imported by the handler, when it runs
    from taskflow.protocol import StatusInfo


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """Commands that take only the global options."""


def status(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.host_choice import several_hosts

    if several_hosts(args):
        from taskflow.cli import fleet

        return fleet.status(args)
    from taskflow.protocol import Status

    with connect(args) as client:
        info = client.call(Status())
    if args.json:
        from taskflow.cli.output import print_json

        print_json(info)
        return EXIT_OK
    _print_status(info)
    return EXIT_OK


def _print_status(info: StatusInfo) -> None:
    from rich.table import Table

    from taskflow.cli.output import STATE_STYLES, console, local_time, plain
    from taskflow.model import format_duration

    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("daemon", f"taskflowd {info.version}, pid {info.pid}")
    grid.add_row("up", f"{format_duration(info.uptime)} (since {local_time(info.started_at)})")
    grid.add_row("workers", f"{info.workers_busy}/{info.workers_max} busy, {info.queued} queued")
    grid.add_row("tasks", f"{info.tasks} in {info.files} file{'s' if info.files != 1 else ''}")
    counts = ", ".join(f"[{STATE_STYLES.get(state, '')}]{count} {state}[/]"
                       for state, count in sorted(info.counts.items()) if count)
    grid.add_row("runs", counts or "none yet")
    if info.paused is not None:
        from taskflow.cli.pause import describe

        grid.add_row("paused", plain(describe(info.paused).removeprefix("paused: ")))
    if info.systemd is not None:
        manager = "user manager (systemctl --user)" if info.systemd.manager == "user" else "system manager"
        grid.add_row("systemd", plain(f"{info.systemd.unit or 'unit unknown'}, {manager}"))
    if info.cluster is not None:
        cluster = info.cluster
        busy = sum(w.busy for w in cluster.workers)
        state = "connected" if cluster.connected else "NOT connected"
        grid.add_row("cluster", plain(f"dask {cluster.scheduler or '?'} ({state}), {len(cluster.workers)} "
                                      f"worker{'s' if len(cluster.workers) != 1 else ''}, {busy} attempts running"))
        for worker in cluster.workers:
            resources = ", ".join(f"{k}={v:g}" for k, v in sorted(worker.resources.items()))
            grid.add_row("", plain(f"{worker.name}  {worker.address}  {worker.busy}/{worker.threads or '?'} busy"
                                   + (f"  [{resources}]" if resources else "")))
    out.print(grid)
    for problem in info.problems:
        out.print("[bold red]problem:[/] ", plain(problem), sep="")
    if info.task_errors:
        out.print(f"[bold red]{len(info.task_errors)} task file problem(s):[/]")
        for problem in info.task_errors:
            out.print(plain(f"  {problem}"))


def health(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import Health

    with connect(args) as client:
        info = client.call(Health())
    if args.json:
        from taskflow.cli.output import print_json

        print_json(info)
    elif info.ok:
        print(f"ok (event loop lag {info.loop_lag_ms:.1f} ms)")
    else:
        print("unhealthy: " + ("; ".join(info.problems) or
                               f"the daemon answers but its event loop lags {info.loop_lag_ms:.0f} ms"))
    return EXIT_OK if info.ok else EXIT_ERROR


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="newest N entries (default 50)")


def audit(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json
    from taskflow.protocol import ListAudit

    with connect(args) as client:
        entries = client.call(ListAudit(limit=args.limit))
    if args.json:
        print_json(entries)
        return EXIT_OK
    import json

    from rich.table import Table

    from taskflow.cli.output import console, local_time, plain

    table = Table(box=None, header_style="bold")
    for column in ("time", "user", "role", "action", "arguments", "outcome"):
        table.add_column(column)
    for entry in entries:
        outcome = plain(entry.outcome)
        outcome.stylize("green" if entry.outcome == "ok" else "red")
        table.add_row(local_time(entry.at), plain(entry.user), str(entry.role),
                      plain(entry.action), plain(json.dumps(entry.args, default=str)), outcome)
    console().print(table)
    return EXIT_OK


def reload(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import Reload

    with connect(args) as client:
        info = client.call(Reload())
    if args.json:
        from taskflow.cli.output import print_json

        print_json(info)
    else:
        print(f"reloaded: {info.tasks} task{'s' if info.tasks != 1 else ''}")
        for problem in info.errors:
            print(problem)
    return EXIT_ERROR if info.errors else EXIT_OK


COMMANDS = (
    Command("status", "daemon version, pid, uptime, workers busy/max, counts by state",
            _no_arguments, status),
    Command("health", "exit 0 when the daemon answers and its loop is healthy, else 1",
            _no_arguments, health),
    Command("audit", "who changed what: the newest audit entries", _audit_arguments, audit),
    Command("reload", "re-read config and task files now (as SIGHUP does); exit 1 on problems",
            _no_arguments, reload),
)
