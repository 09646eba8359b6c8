"""``taskflow validate [PATH ...]``: check task files (and daemon configs) offline.

No daemon is needed, and nothing heavy is imported (no asyncio, no Textual), so CI can run
it on every commit. ``--import`` also imports each Python task's module the way the daemon
does (in a throw-away process first), so a missing function fails CI instead of orphaning
the task after a deploy. Error lines go to stdout, one per problem, so they land in CI logs as
they are; the summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from taskflow.cli import EXIT_ERROR, EXIT_OK, Command
from taskflow.model import TaskFileError, TaskSpec
from taskflow.model.config import DEFAULT_MAX_TREE_NODES
from taskflow.taskfile import (
    CONFIG_FILE_NAME,
    ConfigError,
    default_tasks_dir,
    discover,
    load_config,
    load_file,
    merge,
)
from taskflow.taskfile.problems import key_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="task files or folders (default: $TASKFLOW_TASKS or the default tasks folder); "
             f"a file named {CONFIG_FILE_NAME} is checked as a daemon config",
    )
    parser.add_argument(
        "--import", dest="import_modules", action="store_true",
        help="also import every Python task's module in a throw-away process and check that "
             "its function is registered (runs the modules' import-time code)",
    )


def default_paths() -> list[str]:
    """``$TASKFLOW_TASKS`` (``os.pathsep``-separated) or the default tasks folder."""
    env = os.environ.get("TASKFLOW_TASKS", "")
    paths = [p for p in env.split(os.pathsep) if p]
    return paths or [str(default_tasks_dir())]


def run(args: argparse.Namespace) -> int:
    paths: list[str] = list(args.paths) or default_paths()
    named_configs = [Path(p) for p in paths if Path(p).name == CONFIG_FILE_NAME
                     and Path(p).is_file()]
    found = discover([p for p in paths if Path(p) not in named_configs])
    configs = list(dict.fromkeys([*named_configs, *found.config_files]))
    python_path: list[str] = []
    config_errors: list[TaskFileError] = []
    max_nodes = 0  # the largest limit of the configs among the paths (the daemon's default without one)
    for config in configs:
        try:
            loaded = load_config(config)
        except ConfigError as exc:
            config_errors.extend(exc.errors)
            continue
        python_path += loaded.python_path
        max_nodes = max(max_nodes, loaded.max_tree_nodes)
    limit = max_nodes or DEFAULT_MAX_TREE_NODES
    task_set = merge([load_file(path, limit) for path in found.task_files])
    errors: list[TaskFileError] = [*found.errors, *task_set.errors, *config_errors]
    if getattr(args, "import_modules", False):
        errors.extend(python_problems(task_set.tasks.values(), python_path))

    files = [str(p) for p in found.task_files]
    if getattr(args, "json", False):
        document = {
            "ok": not errors,
            "tasks": len(task_set.tasks),
            "files": files,
            "configs": [str(p) for p in configs],
            "errors": [{"file": e.file, "path": e.path, "reason": e.reason} for e in errors],
        }
        print(json.dumps(document, indent=2))
        return EXIT_ERROR if errors else EXIT_OK

    config_note = f" and {_plural(len(configs), 'config')}" if configs else ""
    if not errors:
        print(f"ok: {_plural(len(task_set.tasks), 'task')} in "
              f"{_plural(len(files), 'file')}{config_note}")
        return EXIT_OK
    for error in errors:
        print(error)
    sys.stdout.flush()
    broken = len({e.file for e in errors})
    print(f"taskflow: {_plural(len(errors), 'error')} in {_plural(broken, 'file')} "
          f"({_plural(len(files), 'task file')} checked{config_note})", file=sys.stderr)
    return EXIT_ERROR


def python_problems(specs: Iterable[TaskSpec], python_path: list[str]) -> list[TaskFileError]:
    """What the daemon would orphan: each Python task whose function does not resolve, found
    by importing its module in a probe process (as the daemon does before importing it)."""
    from taskflow.pytask.probe import probe_tasks

    return [
        TaskFileError(spec.source or "", key_path("tasks", *_children_path(spec.name), "python"), problem)
        for spec, problem in probe_tasks(specs, python_path)
    ]


def _children_path(name: str) -> list[str]:
    """``deploy/build`` → ``deploy, children, build``: the keys of a tree task in its file."""
    parts: list[str] = []
    for i, part in enumerate(name.split("/")):
        parts += [part] if i == 0 else ["children", part]
    return parts


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


COMMANDS = (
    Command(
        name="validate",
        help="check task files offline (no daemon); exit 1 on any error",
        add_arguments=add_arguments,
        run=run,
    ),
)
