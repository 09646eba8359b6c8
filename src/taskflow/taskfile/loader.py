"""Loading task files: one file into a ``FileResult``, many into a ``TaskSet``.

A ``FileResult`` is self-contained (its tasks, pools, services and errors), so the daemon can
keep the last good result of each file and re-merge when one file changes: a broken edit
never takes down the tasks of the other files, nor the last good version of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from taskflow.model import ServiceSpec, TaskFileError, TaskSet, TaskSpec
from taskflow.taskfile.problems import Problems, child_path, key_path
from taskflow.taskfile.reader import TOML_SUFFIXES, YAML_SUFFIXES, read_document
from taskflow.taskfile.services import parse_pools, parse_services
from taskflow.taskfile.tree import DEFAULT_MAX_TREE_NODES, build_tasks, parse_defaults

#: The daemon config's file name; folder scans skip it so a config can sit beside task files.
CONFIG_FILE_NAME = "taskflow.toml"
TASK_FILE_SUFFIXES = TOML_SUFFIXES + YAML_SUFFIXES
_TOP_LEVEL_KEYS = ("defaults", "tasks", "pools", "services")


class FileResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one task file declares. A file with any error contributes no tasks, pools or
    services: half a file is worse than the last good version of it."""

    file: str
    tasks: dict[str, TaskSpec] = {}
    pools: dict[str, int] = {}
    services: dict[str, ServiceSpec] = {}
    errors: list[TaskFileError] = []
    # Top-level task names the file declares, even when it has errors: a broken file must not
    # hide another file's clash with it.
    declared: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.errors


class Discovery(msgspec.Struct, frozen=True, kw_only=True):
    """Files found under the given paths, in load order."""

    task_files: list[Path] = []
    config_files: list[Path] = []
    errors: list[TaskFileError] = []


def load_file(path: str | Path, max_tree_nodes: int = DEFAULT_MAX_TREE_NODES) -> FileResult:
    """Read, check and resolve one TOML or YAML task file, collecting every error.

    A top-level tree of more than ``max_tree_nodes`` nodes is refused (see ``build_tasks``).
    """
    file = str(path)
    problems = Problems(file)
    data = read_document(Path(path), problems)
    if data is None:
        return FileResult(file=file, errors=problems.errors)
    problems.unknown_keys("", data, _TOP_LEVEL_KEYS)
    defaults = parse_defaults(data["defaults"], problems) if "defaults" in data else {}
    pools = parse_pools(data["pools"], problems) if "pools" in data else {}
    services = parse_services(data["services"], problems) if "services" in data else {}
    tasks = data.get("tasks", {})
    specs = build_tasks(tasks, defaults, file, problems, max_tree_nodes)
    declared = [str(name) for name in tasks] if isinstance(tasks, dict) else []
    if problems:
        return FileResult(file=file, errors=problems.errors, declared=declared)
    return FileResult(
        file=file, tasks={spec.name: spec for spec in specs}, pools=pools, services=services,
        declared=declared,
    )


def merge(results: Sequence[FileResult]) -> TaskSet:
    """Combine files in order. A task, pool or service that a later file defines again
    (differently, for pools and services) is an error naming both files; the later file
    then contributes nothing."""
    merged = TaskSet(files=[r.file for r in results])
    owner: dict[str, str] = {}
    pool_owner: dict[str, str] = {}
    service_owner: dict[str, str] = {}
    for result in results:
        merged.errors.extend(result.errors)
        clashes: list[TaskFileError] = []
        for name in result.declared or [s.name for s in result.tasks.values() if s.parent is None]:
            if name in owner:
                clashes.append(TaskFileError(
                    result.file, key_path("tasks", name), f'task "{name}" is also defined in {owner[name]}'))
        if not result.ok:
            # Contributes nothing, but its names still clash with later files (every problem
            # in one pass, not one per fix).
            merged.errors.extend(clashes)
            for name in result.declared:
                owner.setdefault(name, result.file)
            continue
        for name, size in result.pools.items():
            if name in merged.pools and merged.pools[name] != size:
                clashes.append(TaskFileError(
                    result.file, child_path("pools", name),
                    f'pool "{name}" is also defined in {pool_owner[name]} with limit '
                    f"{merged.pools[name]}"))
        for name, service in result.services.items():
            if name in merged.services and merged.services[name] != service:
                clashes.append(TaskFileError(
                    result.file, child_path("services", name),
                    f'service "{name}" is also defined differently in {service_owner[name]}'))
        if clashes:
            merged.errors.extend(clashes)
            continue
        for spec in result.tasks.values():
            merged.tasks[spec.name] = spec
            if spec.parent is None:
                owner[spec.name] = result.file
        for name, size in result.pools.items():
            merged.pools[name] = size
            pool_owner.setdefault(name, result.file)
        for name, service in result.services.items():
            merged.services[name] = service
            service_owner.setdefault(name, result.file)
    return merged


def discover(paths: Iterable[str | Path]) -> Discovery:
    """Task files (and daemon configs met in folders) under ``paths``.

    Folders are scanned recursively in sorted order for ``*.toml``, ``*.yaml`` and ``*.yml``;
    hidden files and folders and ``taskflow.toml`` (the daemon config) are skipped there.
    A file named explicitly is always taken as a task file.
    """
    task_files: list[Path] = []
    config_files: list[Path] = []
    errors: list[TaskFileError] = []
    for raw in paths:
        path = Path(raw)
        try:
            path.stat()
        except FileNotFoundError:
            errors.append(TaskFileError(str(path), "", "no such file or directory"))
            continue
        except OSError as exc:
            errors.append(TaskFileError(str(path), "", f"cannot read: {exc.strerror or exc}"))
            continue
        if path.is_dir():
            for found in _scan(path):
                target = config_files if found.name == CONFIG_FILE_NAME else task_files
                if found not in target:
                    target.append(found)
        elif path.suffix.lower() not in TASK_FILE_SUFFIXES:
            errors.append(TaskFileError(str(path), "", "not a task file (expected .toml, "
                                                        ".yaml or .yml)"))
        elif path not in task_files:
            task_files.append(path)
    return Discovery(task_files=task_files, config_files=config_files, errors=errors)


def _scan(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.suffix.lower() in TASK_FILE_SUFFIXES and path.is_file():
            found.append(path)
    return found


def load_paths(
    paths: Iterable[str | Path], max_tree_nodes: int = DEFAULT_MAX_TREE_NODES
) -> TaskSet:
    """Load every task file under ``paths`` (files and folders) into one ``TaskSet``."""
    found = discover(paths)
    task_set = merge([load_file(path, max_tree_nodes) for path in found.task_files])
    task_set.errors[:0] = found.errors
    return task_set
