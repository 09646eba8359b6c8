"""Views of tasks, runs and their output, made for clients: what ``ls`` and ``logs`` show.

The model types (``Run``, ``RunTree``, ``TaskSpec``...) travel as they are; these views add
what only the daemon knows (next fire time, orphaned, live counters) or cut a large thing
(log output) into chunks. The views of the daemon itself (``StatusInfo``...) live in
``daemon_views``, which loads no model type, and are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from taskflow.model import Run, RunState, RunTree
from taskflow.protocol.daemon_views import HealthInfo, ReloadInfo, StatusInfo, View

__all__ = ["HealthInfo", "LogChunk", "LogStream", "ReloadInfo", "RunRef", "RunSummary", "StatusInfo",
           "TaskInfo", "TaskPage", "TreePage", "View"]

LogStream = Literal["stdout", "stderr", "both"]


class TaskInfo(View):
    """One task definition with its live state, as ``ls`` and the TUI's task tree show it."""

    name: str
    kind: str  # "command", "python" or "group"
    enabled: bool = True
    disabled_reason: str | None = None
    orphaned: bool = False  # its Python function cannot be imported or is not registered
    schedule: str | None = None  # human form: a cron line, "every 10m", "at ..."
    next_run: datetime | None = None
    last_state: RunState | None = None
    last_run_id: str | None = None
    last_finished_at: datetime | None = None
    description: str = ""
    tags: list[str] = []
    service: str | None = None
    pool: str | None = None
    depends_on: list[str] = []
    # A group's children, the first ``CHILDREN_LISTED`` of them; ``more_children`` counts the
    # rest (a 100,000-child group would not fit in a frame). They are tasks of their own too.
    children: list[str] = []
    more_children: int = 0
    # Its queued runs wait: it, a group above it, its pool or everything is paused.
    paused: bool = False


#: Children one ``TaskInfo`` names at most.
CHILDREN_LISTED = 1000


class TaskPage(View):
    """Task definitions in name order, after ``PageTasks.after``; as many as fit well inside
    one frame. ``next_after`` is the name to ask after next, None when there are no more."""

    tasks: list[TaskInfo]
    next_after: str | None = None


class RunRef(View):
    """The run a mutating request created or acted on."""

    id: str
    task: str


class LogChunk(View):
    """A slice of one attempt's output, read from ``offset`` (bytes) of its stream.

    ``cut`` is how many bytes the output cap dropped from the head; ``eof`` is true when the
    attempt has finished and everything up to its end has been returned, so a follower knows
    to stop.
    """

    run_id: str
    attempt: int
    stream: LogStream
    data: bytes
    offset: int
    next_offset: int
    cut: int = 0
    eof: bool = False


class RunSummary(View):
    """A run tree at a glance, whatever its size: the run, how many nodes its tree has,
    its leaves by state, and the first leaves that did not succeed."""

    run: Run
    nodes: int  # runs in the tree below and including ``run``
    leaves: dict[str, int] = {}  # leaf runs by state
    trouble: list[Run] = []  # leaves failed, cancelled, interrupted or skipped upstream, first ``limit``


class TreePage(View):
    """Runs of a tree in tree order (parents before children), ``offset`` onwards, each with
    its attempts and no children; ``next_offset`` None when the tree is done."""

    nodes: list[RunTree]
    next_offset: int | None = None
