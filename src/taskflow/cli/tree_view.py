"""``show``'s picture of a run tree: one line per run, its attempts below it.

    deploy  failed (exit)  12s  01J...
    ├── build  succeeded  4s
    │   └── attempt 1: exit 0, 4s, pid 4242, 12.0MiB
    └── release  failed (exit)  2s
        ├── attempt 1: exit 1, 1s ... "migration lock held"
        └── attempt 2: exit 1, 1s
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from taskflow.cli.output import STATE_STYLES, local_time, marked_line, rfc3339, run_detail, state_text
from taskflow.model import Attempt, RunTree, format_duration, format_size
from taskflow.protocol import RunSummary


def run_summary_view(summary: RunSummary) -> Tree:
    """A big tree in a few lines: the root run, its leaves by state, the leaves in trouble."""
    view = Tree(_run_label(RunTree(run=summary.run), root=True), guide_style="dim")
    counts = Text(f"{summary.nodes} runs; leaves: ")
    for i, (state, count) in enumerate(sorted(summary.leaves.items(), key=lambda kv: -kv[1])):
        if i:
            counts.append(", ")
        counts.append_text(state_text(state, None))
        counts.append(f" {count}")
    view.add(counts)
    for run in summary.trouble:
        view.add(_run_label(RunTree(run=run), root=False))
    view.add(Text(f"taskflow show {summary.run.id} --all draws every run", style="dim"))
    return view


def run_tree_view(tree: RunTree) -> Tree:
    """A Rich tree of ``tree``: the root run with full id and trigger, children by name."""
    view = Tree(_run_label(tree, root=True), guide_style="dim")
    _add_nodes(view, tree)
    return view


def _add_nodes(view: Tree, tree: RunTree) -> None:
    for attempt in tree.attempts:
        view.add(_attempt_label(attempt))
    for child in tree.children:
        _add_nodes(view.add(_run_label(child, root=False)), child)


def _run_label(tree: RunTree, *, root: bool) -> Text:
    run = tree.run
    label = Text(run.task if root else run.task.rsplit("/", 1)[-1], style="bold")
    label.append("  ")
    label.append_text(state_text(run.state, run_detail(run)))
    label.append(f"  {format_duration(run.duration)}", style="dim")
    if root:
        label.append(f"  {run.id}  {run.trigger} at {local_time(run.created_at)}", style="dim")
        if run.requested_by:
            label.append(f" by {run.requested_by}", style="dim")
        if run.scheduled_at is not None:  # the schedule slot it runs for (schedule, backfill)
            label.append(f"  slot {rfc3339(run.scheduled_at)}", style="dim")
    else:
        label.append(f"  {run.id}", style="dim")
    if run.progress is not None and not run.state.terminal:
        label.append(f"  {run.progress:.0%}")
        if run.progress_message:
            label.append(f" {run.progress_message}")
    marked = marked_line(run)
    if marked is not None:  # the operator's word replaces the message of how it ended
        label.append("  ")
        label.append(marked, style="bold")
    elif run.message and run.state != "succeeded":
        label.append("  ")
        label.append(run.message, style=STATE_STYLES.get(str(run.state), ""))
    return label


def _attempt_label(attempt: Attempt) -> Text:
    parts = []
    if attempt.exit_code is not None:
        parts.append(f"exit {attempt.exit_code}")
    if attempt.signal is not None:
        parts.append(f"signal {attempt.signal}")
    duration = None
    if attempt.started_at and attempt.finished_at:
        duration = (attempt.finished_at - attempt.started_at).total_seconds()
    if duration is not None:
        parts.append(format_duration(duration))
    if attempt.pid is not None:
        parts.append(f"pid {attempt.pid}" + (f" on {attempt.worker}" if attempt.worker else ""))
    elif attempt.worker:
        parts.append(f"on {attempt.worker}")
    if attempt.peak_rss:
        parts.append(f"rss {format_size(attempt.peak_rss)}")
    if attempt.cpu_seconds is not None:
        parts.append(f"cpu {attempt.cpu_seconds:.2f}s")
    if attempt.output_bytes:
        cut = f", {format_size(attempt.output_cut)} cut" if attempt.output_cut else ""
        parts.append(f"output {format_size(attempt.output_bytes)}{cut}")
    label = Text(f"attempt {attempt.number}: ", style="dim")
    label.append_text(state_text(attempt.state, str(attempt.error_type) if attempt.error_type else None))
    if parts:
        label.append("  " + ", ".join(parts), style="dim")
    if attempt.message and attempt.state != "succeeded":
        label.append("  ")
        label.append(attempt.message)
    return label
