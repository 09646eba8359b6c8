"""The detail pane: a task's resolved spec, or a run with its attempts and their outcomes.

Everything shown comes from the daemon or from task files, so every cell is a ``Text``:
Rich would otherwise parse ``[bold]`` in a command line as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from taskflow.model import Attempt, Run, TaskSpec, format_duration, format_size
from taskflow.protocol import TaskInfo
from taskflow.protocol.daemon_views import ClusterInfo
from taskflow.tui.glyphs import Palette, clock_time, since, state_text


def _fields(rows: list[tuple[str, Text | str]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key), value if isinstance(value, Text) else Text(value))
    return table


def describe_task(info: TaskInfo, spec: TaskSpec | None, palette: Palette) -> RenderableType:
    """The definition as the daemon resolved it (``GetTask``), with its live state."""
    rows: list[tuple[str, Text | str]] = [("task", Text(info.name, style="bold")), ("kind", info.kind)]
    if info.description:
        rows.append(("about", info.description))
    if spec is not None:
        if spec.command is not None:
            rows.append(("command", spec.command if isinstance(spec.command, str) else " ".join(spec.command)))
        if spec.python:
            rows.append(("python", spec.python))
        if spec.params:
            rows.append(("params", " ".join(f"{k}={v}" for k, v in spec.params.items())))
        if spec.timeout is not None:
            rows.append(("timeout", format_duration(spec.timeout)))
        if spec.retries.max:
            rows.append(("retries", f"{spec.retries.max} (backoff {format_duration(spec.retries.backoff)})"))
        if spec.cwd:
            rows.append(("cwd", spec.cwd))
    enabled = Text("enabled" if info.enabled else f"disabled: {info.disabled_reason or 'by hand'}")
    if info.orphaned:
        enabled.append("  orphaned", style=palette.style("state-failed"))
    rows.append(("status", enabled))
    if info.schedule:
        rows.append(("schedule", info.schedule))
    if info.next_run is not None:
        rows.append(("next run", clock_time(info.next_run)))
    for key, value in (("service", info.service), ("pool", info.pool)):
        if value:
            rows.append((key, value))
    if info.tags:
        rows.append(("tags", ", ".join(info.tags)))
    if info.depends_on:
        rows.append(("needs", ", ".join(info.depends_on)))
    rows.append(("last", state_text(info.last_state, palette)))
    if info.last_finished_at is not None:
        rows.append(("finished", clock_time(info.last_finished_at)))
    return _fields(rows)


def describe_run(run: Run, attempts: list[Attempt], palette: Palette, now: datetime) -> RenderableType:
    """A run's outcome and every attempt's exit code, error type, peak RSS and CPU."""
    state = state_text(run.state, palette)
    if run.error_type is not None:
        state.append(f" ({run.error_type.value})")
    if run.skip_reason is not None:
        state.append(f" ({run.skip_reason.value})")
    rows: list[tuple[str, Text | str]] = [
        # Never wrapped onto a second line: a narrow pane shows a prefix (which the CLI takes).
        ("run", Text(run.id, no_wrap=True, overflow="ellipsis")),
        ("task", Text(run.task, style="bold")),
        ("state", state),
        ("trigger", f"{run.trigger.value}" + (f" by {run.requested_by}" if run.requested_by else "")),
        ("created", clock_time(run.created_at)),
    ]
    if run.started_at is not None:
        rows.append(("duration", since(run.started_at, run.finished_at, now)))
    if attempts and attempts[-1].worker is not None:  # the cluster worker of its latest attempt
        rows.append(("worker", attempts[-1].worker))
    if run.progress is not None:
        progress = f"{run.progress * 100:.0f}%"
        rows.append(("progress", progress + (f" {run.progress_message}" if run.progress_message else "")))
    if run.exit_code is not None:
        rows.append(("exit", str(run.exit_code)))
    if run.message:
        rows.append(("message", run.message))
    if run.marked_at is not None:  # an operator's verdict (``taskflow mark``)
        rows.append(("marked", f"{run.state.value} by {run.marked_by or 'unknown'}: {run.marked_reason or ''}"
                               f" (was {run.marked_from.value if run.marked_from else '?'},"
                               f" {clock_time(run.marked_at)})"))
    if run.params:
        rows.append(("params", " ".join(f"{k}={v}" for k, v in run.params.items())))
    parts: list[RenderableType] = [_fields(rows)]
    if attempts:
        table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
        # The worker column only once an attempt ran on a cluster worker (dask executor):
        # a local attempt's host is the daemon's own.
        remote = any(attempt.worker is not None for attempt in attempts)
        for column in ("#", "state", "exit", "error", "peak RSS", "CPU", "time") + (("worker",) if remote else ()):
            table.add_column(column, no_wrap=True, overflow="ellipsis", min_width=len(column))
        for attempt in attempts:
            exit_text = str(attempt.exit_code) if attempt.exit_code is not None else (
                f"sig {attempt.signal}" if attempt.signal is not None else "-")
            worker = (Text(attempt.worker or "local", no_wrap=True, overflow="ellipsis"),) if remote else ()
            table.add_row(
                Text(str(attempt.number)),
                state_text(attempt.state, palette),
                Text(exit_text),
                Text(attempt.error_type.value if attempt.error_type else "-"),
                Text(format_size(attempt.peak_rss)),
                Text(format_duration(attempt.cpu_seconds) if attempt.cpu_seconds is not None else "-"),
                Text(since(attempt.started_at, attempt.finished_at, now) or "-"),
                *worker,
            )
        parts += [Text(""), table]
        last = attempts[-1]
        if last.message:
            parts.append(Text(last.message, style=palette.state(last.state)))
    return Group(*parts)


def cluster_summary(cluster: ClusterInfo) -> str:
    """``cluster 2 workers, 3/8 busy`` (taskflow's attempts of the workers' threads), or
    ``cluster lost`` while the scheduler is out of reach: the status bar's compact form."""
    if not cluster.connected:
        return "cluster lost"
    workers = len(cluster.workers)
    threads = sum(w.threads or 0 for w in cluster.workers)
    busy = sum(w.busy for w in cluster.workers)
    return f"cluster {workers} worker{'s' if workers != 1 else ''}, {busy}/{threads or '?'} busy"


def describe_cluster(cluster: ClusterInfo, palette: Palette) -> RenderableType:
    """The dask executor's cluster: its scheduler, up or lost (and why), and each worker with
    its resources and how many of taskflow's attempts it runs."""
    state = Text("up", style=palette.style("state-succeeded")) if cluster.connected else Text(
        "lost", style=palette.style("state-failed"))
    rows: list[tuple[str, Text | str]] = [
        ("scheduler", Text(cluster.scheduler or "?", no_wrap=True, overflow="ellipsis")),
        ("state", state),
    ]
    if cluster.problem:
        rows.append(("why", Text(cluster.problem, style=palette.style("state-failed"))))
    rows.append(("running", f"{cluster.remote_running} attempt{'s' if cluster.remote_running != 1 else ''}"))
    parts: list[RenderableType] = [_fields(rows)]
    if cluster.workers:
        table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
        for column in ("worker", "address", "busy", "resources"):
            table.add_column(column, no_wrap=column != "resources", overflow="ellipsis")
        for worker in cluster.workers:
            resources = ", ".join(f"{k}={v:g}" for k, v in sorted(worker.resources.items()))
            table.add_row(Text(worker.name), Text(worker.address), Text(f"{worker.busy}/{worker.threads or '?'}"),
                          Text(resources or "-"))
        parts += [Text(""), table]
    elif cluster.connected:
        parts += [Text(""), Text("No workers are connected to the scheduler.", style="italic")]
    return Group(*parts)


class DetailPane(VerticalScroll):
    """Scrollable pane holding one rendered description."""

    DEFAULT_CSS = """
    DetailPane { border: round $panel; border-title-color: $primary; padding: 0 1; }
    DetailPane:focus { border: round $primary; }
    DetailPane > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Detail"
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._body = Static(Text("Select a task or a run.", style="italic"))

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, renderable: RenderableType, title: str = "Detail") -> None:
        self.border_title = Text(title)
        self._body.update(renderable)
