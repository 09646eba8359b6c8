"""Daemon-side checks of Python tasks: is the function there, do the params fit its hints?

A function that cannot be resolved makes its task *orphaned* (disabled with the reason);
params that do not fit are a ``config`` failure before any process starts. Resolutions are
cached; a reload builds a new ``PythonChecks`` (and re-imports modules whose files changed).
``prime`` imports every module in a child process first (``taskflow.pytask.probe``), so a
module that crashes, exits or hangs at import orphans its tasks instead of taking the daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from taskflow.engine.process.wrapper import task_base_env
from taskflow.model import TaskSpec
from taskflow.pytask.probe import IMPORT_TIMEOUT, module_search_paths, probe_tasks
from taskflow.pytask.resolve import ParamError, ResolveError, check_params, resolve, wants_history


class PythonChecks:
    def __init__(self, python_path: Sequence[str] = ()) -> None:
        self.python_path = list(python_path)
        self._cache: dict[tuple[str | None, str], Callable[..., Any] | str] = {}

    def _search_paths(self, spec: TaskSpec) -> list[str]:
        return module_search_paths(spec.source, self.python_path)

    def prime(self, specs: Iterable[TaskSpec], timeout: float = IMPORT_TIMEOUT) -> None:
        """Probe the modules of all Python tasks not resolved yet, in one child process; the
        ones that fail there are never imported here."""
        todo = [spec for spec in specs if (spec.python, spec.source) not in self._cache]
        for spec, problem in probe_tasks(todo, self.python_path, timeout, task_base_env()):
            self._cache[(spec.python, spec.source)] = problem

    def _resolve(self, spec: TaskSpec) -> Callable[..., Any] | str:
        assert spec.python is not None
        key = (spec.python, spec.source)
        if key not in self._cache:
            try:
                self._cache[key] = resolve(spec.python, self._search_paths(spec))
            except ResolveError as exc:
                self._cache[key] = str(exc)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code raised (or exited) while importing
                self._cache[key] = f"importing {spec.python} failed: {type(exc).__name__}: {exc}"
        return self._cache[key]

    def resolve_problem(self, spec: TaskSpec) -> str | None:
        found = self._resolve(spec)
        return found if isinstance(found, str) else None

    def param_problem(self, spec: TaskSpec, params: dict[str, Any]) -> str | None:
        found = self._resolve(spec)
        if isinstance(found, str):
            return found
        try:
            check_params(found, {**spec.params, **params})
        except ParamError as exc:
            return str(exc)
        return None

    def wants_history(self, spec: TaskSpec) -> bool:
        """True when ``spec``'s function takes a ``taskflow.History`` parameter."""
        if spec.kind != "python":
            return False
        found = self._resolve(spec)
        return not isinstance(found, str) and wants_history(found)
