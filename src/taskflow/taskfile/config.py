"""``taskflow.toml``, the daemon config: read, checked key by key, every error reported.

Durations and sizes may be written the human way (``stop_grace = "15s"``,
``output_cap = "32MiB"``). Relative paths (``state_dir``, ``socket``, ``tasks``,
``python_path``) are taken relative to the config file's folder, so a config that travels
with its task files (as ``examples/taskflow.toml`` does) works from any working directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from taskflow.model import DaemonConfig, RetentionConfig, TaskFileError
from taskflow.model.config import ConnectionLimits
from taskflow.taskfile import fields as f
from taskflow.taskfile.fields import INVALID
from taskflow.taskfile.notifiers import as_notifiers
from taskflow.taskfile.placement import as_executor
from taskflow.taskfile.problems import Problems, child_path
from taskflow.taskfile.reader import read_document
from taskflow.taskfile.services import parse_breaker, parse_pools

SYSTEM_CONFIG = Path("/etc/taskflow/taskflow.toml")


class ConfigError(Exception):
    """The config file has problems; ``errors`` lists every one of them."""

    def __init__(self, errors: list[TaskFileError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def default_tasks_dir() -> Path:
    """Where task files live when nothing says otherwise (DESIGN.md "Commands")."""
    if is_root():
        return Path("/etc/taskflow/tasks.d")
    return Path.home() / ".config" / "taskflow" / "tasks.d"


def config_search_paths() -> list[Path]:
    """Config files tried in order when no ``--config`` is given."""
    return [SYSTEM_CONFIG, Path.home() / ".config" / "taskflow" / "taskflow.toml"]


def _path_under(base: Path) -> Callable[[Any, str, Problems], Any]:
    def check(value: Any, path: str, problems: Problems) -> Any:
        text = f.as_str(value, path, problems, empty_ok=True)
        if text is INVALID or not text:
            return text
        resolved = Path(text).expanduser()
        return str(resolved if resolved.is_absolute() else base / resolved)

    return check


def _paths_under(base: Path) -> Callable[[Any, str, Problems], Any]:
    one = _path_under(base)

    def check(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, str):
            value = [value]
        items = f.as_str_list(value, path, problems)
        if items is INVALID:
            return INVALID
        return [one(item, child_path(path, i), problems) for i, item in enumerate(items)]

    return check


def _as_keys(value: Any, path: str, problems: Problems) -> Any:
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    ok = all(f.as_str(v, child_path(path, str(k)), problems) is not INVALID
             for k, v in table.items())
    return dict(table) if ok else INVALID


_RETENTION_KEYS = ("days", "per_task", "audit_days")


def _as_retention(value: Any, path: str, problems: Problems) -> Any:
    """``days`` and ``audit_days`` (a number, or a duration like ``"30d"``) and ``per_task``;
    ``false`` keeps all."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _RETENTION_KEYS)
    fields: dict[str, Any] = {}
    for key in ("days", "audit_days"):
        if key in table:
            fields[key] = _as_days(table[key], child_path(path, key), problems)
    if "per_task" in table:
        per_task = table["per_task"]
        fields["per_task"] = None if per_task is False else f.as_int(
            per_task, child_path(path, "per_task"), problems, low=1)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_RETENTION_KEYS):
        return INVALID
    return RetentionConfig(**fields)


_CONNECTION_KEYS = ("max_per_user", "max_total", "admin_reserve")


def _as_connections(value: Any, path: str, problems: Problems) -> Any:
    """``max_per_user`` and ``max_total`` (at least 1) and ``admin_reserve`` (at least 0,
    below ``max_total`` so non-admins keep at least one slot)."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _CONNECTION_KEYS)
    fields: dict[str, Any] = {}
    for key in _CONNECTION_KEYS:
        if key in table:
            low = 0 if key == "admin_reserve" else 1
            fields[key] = f.as_int(table[key], child_path(path, key), problems, low=low)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_CONNECTION_KEYS):
        return INVALID
    limits = ConnectionLimits(**fields)
    if limits.admin_reserve >= limits.max_total:
        problems.add(
            child_path(path, "admin_reserve"),
            f"must be below max_total ({limits.max_total}), got {limits.admin_reserve}",
        )
        return INVALID
    return limits


def _as_days(value: Any, path: str, problems: Problems) -> Any:
    """A positive age in days: a number, a duration like ``"30d"``, or ``false`` for forever."""
    if value is False:
        return None
    if isinstance(value, str):
        seconds = f.as_duration(value, path, problems, positive=True)
        return INVALID if seconds is INVALID else seconds / 86400
    return f.as_number(value, path, problems, low=0.0, low_open=True)


def _converted_to(kind: Any) -> Callable[[Any, str, Problems], Any]:
    """Fallback for fields without a checker of their own: msgspec's strict conversion."""

    def check(value: Any, path: str, problems: Problems) -> Any:
        try:
            return msgspec.convert(value, kind)
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `")
            where = where.rstrip("`")
            problems.add(path + where[1:] if where.startswith("$") else path, message)
            return INVALID

    return check


def _checkers(base: Path) -> dict[str, Callable[[Any, str, Problems], Any]]:
    specific = _specific_checkers(base)
    return {
        field.name: specific.get(field.name) or _converted_to(field.type)
        for field in msgspec.structs.fields(DaemonConfig)
    }


def _specific_checkers(base: Path) -> dict[str, Callable[[Any, str, Problems], Any]]:
    return {
        "state_dir": _path_under(base),
        "socket": _path_under(base),
        "tasks": _paths_under(base),
        "max_workers": lambda v, p, pr: f.as_int(v, p, pr, low=1),
        "min_workers": lambda v, p, pr: f.as_int(v, p, pr, low=1),
        "adaptive": f.as_bool,
        "log_format": lambda v, p, pr: f.as_choice(v, p, pr, ("json", "text")),
        "socket_group": f.as_str,
        "operator_group": f.as_str,
        "adhoc": lambda v, p, pr: f.as_choice(v, p, pr, ("admin", "operator", "off")),
        "on_stop": lambda v, p, pr: f.as_choice(v, p, pr, ("detach", "stop")),
        "stop_grace": f.as_duration,
        "attempt_cgroups": f.as_bool,
        "output_cap": f.as_size,
        "max_tree_nodes": lambda v, p, pr: f.as_int(v, p, pr, low=1),
        "commit_window": f.as_duration,
        "python_path": _paths_under(base),
        "pools": lambda v, p, pr: parse_pools(v, pr, p),
        "breaker": parse_breaker,
        "retention": _as_retention,
        "connections": _as_connections,
        "executor": as_executor,
        "notifiers": as_notifiers,
        "metrics_port": lambda v, p, pr: f.as_int(v, p, pr, low=1, high=65535),
        "theme": f.as_str,
        "keys": _as_keys,
        "confirm_run": f.as_bool,
    }


def load_config(path: str | Path) -> DaemonConfig:
    """Read ``path`` into a ``DaemonConfig``; raise ``ConfigError`` listing every problem."""
    problems = Problems(str(path))
    data = read_document(Path(path), problems)
    if data is None:
        raise ConfigError(problems.errors)
    checkers = _checkers(Path(path).expanduser().absolute().parent)
    problems.unknown_keys("", data, checkers)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in checkers:
            converted = checkers[key](value, child_path("", key), problems)
            if converted is not INVALID:
                values[key] = converted
    low, high = values.get("min_workers", 1), values.get("max_workers", 8)
    if low > high:
        problems.add("min_workers", f"must not exceed max_workers ({high}), got {low}")
    if problems:
        raise ConfigError(problems.errors)
    return DaemonConfig(**values)
