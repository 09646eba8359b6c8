"""How commands print: JSON documents for scripts, Rich tables and trees for people.

``--json`` output is ``msgspec.json`` of the model's Structs, so field names are the model's
and times are RFC 3339 UTC. Human output goes through a Rich console that drops colour (and
every ANSI sequence) when stdout is not a terminal or ``NO_COLOR`` is set. Rich is imported
only when a human-readable page is printed: ``status --json`` must stay light.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Rich style per run state; terminal failures stand out, waiting states are quiet.
STATE_STYLES: dict[str, str] = {
    "pending": "dim",
    "queued": "dim",
    "running": "cyan",
    "retrying": "yellow",
    "blocked": "magenta",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "yellow",
    "skipped": "dim",
    "interrupted": "bold red",
}

BREAKER_STYLES: dict[str, str] = {"closed": "green", "open": "bold red", "half_open": "yellow"}


def print_json(value: Any, *, pretty: bool = True) -> None:
    """Print one JSON document (``pretty``) or one JSON line, and flush (scripts read live)."""
    import msgspec

    data = msgspec.json.encode(value)
    if pretty:
        data = msgspec.json.format(data, indent=2)
    out = sys.stdout.buffer
    out.write(data + b"\n")
    out.flush()


def console(stderr: bool = False) -> Console:
    """A Rich console: colour only on a terminal and without ``NO_COLOR``.

    Piped output gets a wide virtual width so that tables are not wrapped for ``grep``.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(
        file=stream,
        no_color=bool(os.environ.get("NO_COLOR")),
        force_terminal=None if tty else False,
        width=None if tty else 400,
        highlight=False,
        soft_wrap=not tty,
    )


def state_text(state: Any, detail: str | None = None) -> Text:
    """A run state, coloured, with its error type or skip reason: ``failed (timeout)``."""
    from rich.text import Text

    name = str(state) if state is not None else "-"
    label = f"{name} ({detail})" if detail else name
    return Text(label, style=STATE_STYLES.get(name, ""))


def run_detail(run: Any) -> str | None:
    """What to show next to a run's state: its error type or skip reason, and ``late``."""
    detail = None
    if run.error_type is not None:
        detail = str(run.error_type)
    elif run.skip_reason is not None:
        detail = str(run.skip_reason)
    if str(run.state) == "pending" and getattr(run, "not_before", None) is not None:
        detail = f"scheduled for {local_time(run.not_before)}"  # run --at / --in
    if str(run.state) == "pending" and getattr(run, "after_run", None) is not None:
        detail = f"after {run.after_run}"  # a backfill slot waiting for the run before it
    if getattr(run, "late_at", None) is not None:
        detail = "late" if detail is None else f"{detail}, late"
    if getattr(run, "marked_at", None) is not None and detail != "marked":  # skipped (marked) says it
        detail = "marked" if detail is None else f"{detail}, marked"
    return detail


def marked_line(run: Any) -> str | None:
    """``marked succeeded by alice: restored by hand (was failed)``; None if never marked."""
    if getattr(run, "marked_at", None) is None:
        return None
    return f"marked {run.state} by {run.marked_by or 'unknown'}: {run.marked_reason or ''} (was {run.marked_from})"


def ended_line(run: Any, *, with_id: bool = False) -> Text:
    """How a waited-for run ended, on one line: ``failed (exit)  [id]  task  1.2s  message``."""
    from taskflow.model import RunState, format_duration

    line = state_text(run.state, run_detail(run))
    if with_id:
        line.append(f"  {run.id}")
    line.append(f"  {run.task}  {format_duration(run.duration)}")
    if marked_line(run) is not None:
        line.append(f"  {marked_line(run)}")
    elif run.message and run.state != RunState.SUCCEEDED:
        line.append(f"  {run.message}")
    return line


def rfc3339(when: datetime) -> str:
    """``2026-01-02T02:00:00Z``: a time in UTC as ``--json`` and the task environment give it."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def local_time(when: datetime | None) -> str:
    """A time for people, in the local zone; today's times without the date."""
    if when is None:
        return "-"
    local = when.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def age(when: datetime | None) -> str:
    """How long ago (or, for a future time, in how long): ``3m ago``, ``in 42s``."""
    from taskflow.model import format_duration

    if when is None:
        return "-"
    delta = (datetime.now(UTC) - when).total_seconds()
    if delta >= 0:
        return f"{format_duration(delta)} ago"
    return f"in {format_duration(-delta)}"


def plain(text: str | None) -> Text:
    """Text from tasks or the daemon, never parsed as markup."""
    from rich.text import Text

    return Text(text or "")
