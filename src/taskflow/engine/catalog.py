"""The task catalog: the loaded task set and whether each task may be triggered, and why not.

A task is disabled by its task file, by an operator (persisted in the store, surviving
reloads and restarts), or because its Python function cannot be resolved (orphaned: no
operator can enable it until the code is fixed). A disabled task also refuses triggers of
everything below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from taskflow.engine.pycheck import PythonChecks
from taskflow.model import TaskSet, TaskSpec


@dataclass(slots=True)
class TaskStatus:
    """Whether a task may be triggered, and why not."""

    enabled: bool = True
    reason: str | None = None
    orphaned: bool = False


class TaskCatalog:
    """The task definitions in force, with their enablement."""

    def __init__(self, python: PythonChecks) -> None:
        self.taskset = TaskSet()
        self.tasks: dict[str, TaskSpec] = {}
        self.status: dict[str, TaskStatus] = {}
        self.user_state: dict[str, tuple[bool, str | None]] = {}  # operators' choices
        self.python = python

    def update(self, taskset: TaskSet, python: PythonChecks) -> None:
        """Apply a (re)loaded task set with its resolved Python checks."""
        self.taskset = taskset
        self.tasks = dict(taskset.tasks)
        self.python = python
        status: dict[str, TaskStatus] = {}
        for name, spec in self.tasks.items():
            st = TaskStatus(enabled=spec.enabled, reason=None if spec.enabled else "disabled in task file")
            if spec.kind == "python":
                problem = python.resolve_problem(spec)
                if problem is not None:
                    st = TaskStatus(enabled=False, reason=problem, orphaned=True)
            if name in self.user_state and not st.orphaned:
                enabled, reason = self.user_state[name]
                st = TaskStatus(enabled=enabled, reason=reason)
            status[name] = st
        self.status = status

    def restore(self, user_state: Mapping[str, tuple[bool, str | None]]) -> None:
        """Operators' enable/disable choices as the store kept them."""
        self.user_state = dict(user_state)

    def is_enabled(self, name: str) -> bool:
        st = self.status.get(name)
        return st is None or st.enabled

    def refusal(self, name: str) -> str | None:
        """Why ``name`` cannot be triggered (it or an ancestor is disabled), or None."""
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            node = "/".join(parts[:depth])
            st = self.status.get(node)
            if st is not None and not st.enabled:
                why = f": {st.reason}" if st.reason else ""
                if node == name:
                    return f"task {name} is disabled{why}"
                return f"task {name} is disabled because {node} is disabled{why}"
        return None

    def set_enabled(self, name: str, enabled: bool, reason: str | None) -> TaskStatus:
        """Record an operator's choice (the caller has persisted it)."""
        self.user_state[name] = (enabled, reason)
        self.status[name] = TaskStatus(enabled=enabled, reason=reason)
        return self.status[name]
