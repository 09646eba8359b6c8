"""Block until a run is terminal: what ``wait``, ``run --wait`` and ``exec --wait`` share.

The daemon pushes ``RunChanged`` events for the run's tree; we also re-read the run at least
once a second, so a lost event (a ``Resync``, a daemon restart in between) only costs a
second, never a hang. Only the run itself is read (``GetRun``), never its tree, so waiting
costs the same for a tree of one node or of 10,000.
"""

from __future__ import annotations

import time

from taskflow.cli import EXIT_ERROR, CommandError
from taskflow.client import Client
from taskflow.model import Run
from taskflow.protocol import TOPIC_RUNS, GetRun, RunChanged, Subscribe

#: The longest we trust events alone before re-reading the run.
POLL_INTERVAL = 1.0


def wait_for_run(client: Client, run_id: str, timeout: float | None = None) -> Run:
    """The run ``run_id`` once it is terminal.

    Raises ``CommandError`` (exit 1) when ``timeout`` seconds pass first.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    client.call(Subscribe(topics=[TOPIC_RUNS], run_id=run_id))
    while True:
        run = client.call(GetRun(run_id=run_id))
        if run.state.terminal:
            return run
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise CommandError(f"run {run_id} is still {run.state} after {timeout:g}s",
                               EXIT_ERROR)
        until = now + POLL_INTERVAL
        if deadline is not None:
            until = min(until, deadline)
        _sleep_until_news(client, run_id, until)


def _sleep_until_news(client: Client, run_id: str, until: float) -> None:
    """Return when the run may have ended (an event says so) or at ``until``."""
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return
        push = client.next_push(remaining)
        if push is None:
            return
        event = push.event
        if not isinstance(event, RunChanged):
            return  # a Resync or anything unexpected: re-read now
        if event.run.id == run_id and event.run.state.terminal:
            return
