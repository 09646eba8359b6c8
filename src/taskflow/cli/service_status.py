"""How ``service status`` and ``service logs`` print: the unit, the daemon, journal lines.

Everything the daemon, systemd or journald wrote is shown as ``rich.text.Text``, never
parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskflow.service.journal import JournalEntry
    from taskflow.service.layout import ServiceLayout
    from taskflow.service.report import ServiceStatus

#: Rich style per log level; errors stand out, debug is quiet.
LEVEL_STYLES = {"debug": "dim", "warning": "yellow", "error": "bold red", "critical": "bold red"}


def print_status(report: ServiceStatus, layout: ServiceLayout) -> None:
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import console, plain
    from taskflow.model import format_duration
    from taskflow.service.layout import UNIT_NAME
    from taskflow.service.unit_state import summary

    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    scope = " (systemctl --user)" if layout.user else ""
    if report.unit is not None:
        line = plain(f"{UNIT_NAME}{scope}: {summary(report.unit)}")
        line.stylize("green" if report.unit.running else "bold red", 0, len(UNIT_NAME))
        grid.add_row("unit", line)
        files = [report.unit.fragment_path or "", *report.unit.drop_in_paths]
        if any(files):
            grid.add_row("", plain(" + ".join(f for f in files if f)))
    else:
        grid.add_row("unit", Text(report.unit_error or "unknown", style="red"))
    daemon = report.daemon
    if daemon is not None:
        grid.add_row("daemon", plain(
            f"taskflowd {daemon.version}, pid {daemon.pid}, up {format_duration(daemon.uptime)}; "
            f"workers {daemon.workers_busy}/{daemon.workers_max} busy, {daemon.queued} queued; "
            f"{daemon.tasks} task{'s' if daemon.tasks != 1 else ''}"))
        if daemon.systemd is not None:
            manager = "a user's manager" if daemon.systemd.manager == "user" else "the system manager"
            grid.add_row("", plain(f"runs under systemd as {daemon.systemd.unit or 'an unknown unit'} ({manager})"))
        else:
            grid.add_row("", Text("not started by systemd (no INVOCATION_ID or NOTIFY_SOCKET at start)",
                                  style="yellow"))
        for problem in [*daemon.problems, *daemon.task_errors]:
            grid.add_row(Text("problem", style="bold red"), plain(problem))
    else:
        grid.add_row("daemon", Text(report.daemon_error or "unknown", style="red"))
    out.print(grid)
    out.print()
    title = f"journal (last {len(report.journal)} lines; taskflow service logs -f follows it)"
    out.print(Text(title, style="bold"))
    if report.journal_error:
        out.print(plain(report.journal_error), style="yellow")
    print_entries(report.journal, indent="  ")


def print_entries(entries: Iterable[JournalEntry], indent: str = "") -> None:
    """Journal lines as they come (``logs -f`` passes a stream), coloured by level."""
    from rich.text import Text

    from taskflow.cli.output import console
    from taskflow.service.journal import format_entry

    out = console()
    for entry in entries:
        text = format_entry(entry).replace("\n", "\n" + indent)
        out.print(Text(indent + text, style=LEVEL_STYLES.get(entry.level, "")))
        out.file.flush()  # `logs -f | grep ...` sees each line as it comes
