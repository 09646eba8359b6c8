"""``taskflow validate [PATH ...]``: check task files (and daemon configs) offline.

No daemon is needed, and nothing heavy is imported (no asyncio, no Textual), so CI can run
it on every commit. Error lines go to stdout, one per problem, so they land in CI logs as
they are; the summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from taskflow.cli import EXIT_ERROR, EXIT_OK, Command
from taskflow.model import TaskFileError
from taskflow.taskfile import (
    CONFIG_FILE_NAME,
    ConfigError,
    default_tasks_dir,
    discover,
    load_config,
    load_file,
    merge,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="task files or folders (default: $TASKFLOW_TASKS or the default tasks folder); "
             f"a file named {CONFIG_FILE_NAME} is checked as a daemon config",
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
    task_set = merge([load_file(path) for path in found.task_files])
    errors: list[TaskFileError] = [*found.errors, *task_set.errors]
    configs = list(dict.fromkeys([*named_configs, *found.config_files]))
    for config in configs:
        try:
            load_config(config)
        except ConfigError as exc:
            errors.extend(exc.errors)

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
