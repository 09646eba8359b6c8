"""Resolving the daemon's settings: flags > environment > config file > defaults.

The config file is ``--config FILE`` when given, else the first of
``/etc/taskflow/taskflow.toml`` and ``~/.config/taskflow/taskflow.toml`` that exists.
Default paths depend on whether the daemon runs as root (DESIGN.md "Commands").
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import msgspec

from taskflow.client.paths import default_socket_path
from taskflow.model import DaemonConfig, TaskFileError
from taskflow.taskfile.config import ConfigError, config_search_paths, default_tasks_dir, load_config


def default_state_dir(uid: int | None = None) -> str:
    if (os.getuid() if uid is None else uid) == 0:
        return "/var/lib/taskflow"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return os.path.join(base, "taskflow")


def find_config_file(explicit: str | None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError([TaskFileError(explicit, "", "config file not found")])
        return path
    for candidate in config_search_paths():
        if candidate.is_file():
            return candidate
    return None


def resolve_settings(args: argparse.Namespace, env: dict[str, str] | None = None) -> tuple[DaemonConfig, Path | None]:
    """The effective configuration and the config file it came from (if any).

    Raises ``ConfigError`` with every problem found.
    """
    env = dict(os.environ) if env is None else env
    path = find_config_file(getattr(args, "config", None))
    config = load_config(path) if path is not None else DaemonConfig()
    changes: dict[str, object] = {}
    problems: list[TaskFileError] = []

    def pick(flag: object, env_name: str) -> str | None:
        if flag not in (None, [], ""):
            return flag  # type: ignore[return-value]
        return env.get(env_name) or None

    state_dir = pick(args.state_dir, "TASKFLOW_STATE_DIR")
    if state_dir:
        changes["state_dir"] = str(state_dir)
    socket = pick(args.socket, "TASKFLOW_SOCKET")
    if socket:
        changes["socket"] = str(socket)
    if args.tasks:
        changes["tasks"] = [str(p) for p in args.tasks]
    elif env.get("TASKFLOW_TASKS"):
        changes["tasks"] = [p for p in env["TASKFLOW_TASKS"].split(os.pathsep) if p]
    workers = pick(args.max_workers, "TASKFLOW_MAX_WORKERS")
    if workers is not None:
        try:
            changes["max_workers"] = int(workers)
        except ValueError:
            problems.append(TaskFileError("TASKFLOW_MAX_WORKERS", "", f"expected a whole number, got {workers!r}"))
    if args.log_format:
        changes["log_format"] = args.log_format
    if problems:
        raise ConfigError(problems)
    config = msgspec.structs.replace(config, **changes)

    defaults: dict[str, object] = {}
    if not config.state_dir:
        defaults["state_dir"] = default_state_dir()
    if not config.socket:
        defaults["socket"] = default_socket_path(env)
    if not config.tasks:
        defaults["tasks"] = [str(default_tasks_dir())]
    config = msgspec.structs.replace(config, **defaults)
    # Absolute paths: task sources name their folder on the import path, and the daemon
    # may change its working directory.
    config = msgspec.structs.replace(
        config,
        tasks=[os.path.abspath(p) for p in config.tasks],
        state_dir=os.path.abspath(config.state_dir),
        socket=os.path.abspath(config.socket),
        python_path=[os.path.abspath(p) for p in config.python_path],
    )
    if config.max_workers < 1:
        raise ConfigError([TaskFileError("max_workers", "", f"must be at least 1, got {config.max_workers}")])
    if config.min_workers < 1 or config.min_workers > config.max_workers:
        raise ConfigError([TaskFileError("min_workers", "", f"must be between 1 and max_workers ({config.max_workers})")])
    return config, path
