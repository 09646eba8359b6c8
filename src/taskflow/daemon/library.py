"""The daemon's view of its task files: last good version per file, hot reload.

A broken edit keeps the last good version of that file's tasks and reports the error; a
file that disappears takes its tasks with it (their running runs finish on their snapshot).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from taskflow.model import TaskSet
from taskflow.model.config import DEFAULT_MAX_TREE_NODES
from taskflow.taskfile import FileResult, discover, load_file, merge

log = logging.getLogger(__name__)


class TaskLibrary:
    def __init__(self, paths: Sequence[str], max_tree_nodes: int = DEFAULT_MAX_TREE_NODES) -> None:
        self.paths = [str(p) for p in paths]
        self.max_tree_nodes = max_tree_nodes
        self._good: dict[str, FileResult] = {}

    def load(self) -> TaskSet:
        """Read every task file now; errors are collected in ``TaskSet.errors``."""
        found = discover(self.paths)
        errors = list(found.errors)
        results: list[FileResult] = []
        present = set()
        for path in found.task_files:
            key = str(path)
            present.add(key)
            result = load_file(path, max_tree_nodes=self.max_tree_nodes)
            if result.ok:
                self._good[key] = result
                results.append(result)
                continue
            errors.extend(result.errors)
            previous = self._good.get(key)
            if previous is not None:
                log.warning("%s has errors; keeping its last good version", key)
                results.append(previous)
        for gone in set(self._good) - present:
            del self._good[gone]
        taskset = merge(results)
        taskset.errors[:0] = errors
        taskset.files = sorted(present)
        return taskset

    def watch_roots(self) -> list[Path]:
        """Folders to watch: the task folders themselves and the parents of named files
        (editors replace files by rename, which a watch on the file itself would miss)."""
        roots: list[Path] = []
        for raw in self.paths:
            path = Path(raw)
            root = path if path.is_dir() else path.parent
            if root.exists() and root not in roots:
                roots.append(root)
        return roots

    async def watch(self, on_change: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
        """Call ``on_change`` after task files change, until ``stop`` is set."""
        import watchfiles

        roots = self.watch_roots()
        if not roots:
            return
        suffixes = (".toml", ".yaml", ".yml", ".py")

        def relevant(_change: watchfiles.Change, path: str) -> bool:
            return path.endswith(suffixes)

        try:
            async for _changes in watchfiles.awatch(
                *roots, watch_filter=relevant, stop_event=stop, debounce=300, step=100
            ):
                await on_change()
        except Exception:
            log.exception("watching task files failed; SIGHUP still reloads them")
