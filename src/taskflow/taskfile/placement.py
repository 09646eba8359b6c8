"""Checkers for placement: a task's ``where`` and the daemon config's ``[executor]`` table.

Both are checked offline (``taskflow validate``), key by key, like every other setting: no
cluster is contacted and ``distributed`` is not imported. Whether a named worker exists is a
question for the running cluster; what can be known from the text (types, a ``tcp://`` style
address, positive resources, ``address`` or ``local`` but not both) is checked here.
"""

from __future__ import annotations

import re
from typing import Any

from taskflow.model import ExecutorConfig, LocalClusterSettings, Placement
from taskflow.taskfile import fields as f
from taskflow.taskfile.fields import INVALID
from taskflow.taskfile.problems import Problems, child_path

_WHERE_KEYS = ("workers", "resources")
_EXECUTOR_KEYS = ("kind", "address", "local", "send_all", "worker_dir", "connect_timeout", "poll_interval")
_LOCAL_KEYS = ("workers", "threads", "resources")
_ADDRESS_RE = re.compile(r"^(?:tcp|tls|inproc|ucx|ws|wss)://\S+$")
_RESOURCE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def as_resources(value: Any, path: str, problems: Problems) -> dict[str, float] | Any:
    """``{ cpu = 4, gpu = 1 }``: names to positive amounts."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    out: dict[str, float] = {}
    ok = True
    for name, amount in table.items():
        item = child_path(path, str(name))
        if not _RESOURCE_RE.match(str(name)):
            problems.add(item, f"invalid resource name {name!r} (letters, digits, _ . -)")
            ok = False
            continue
        number = f.as_number(amount, item, problems, low=0.0, low_open=True)
        if number is INVALID:
            ok = False
        else:
            out[str(name)] = number
    return out if ok else INVALID


def as_where(value: Any, path: str, problems: Problems) -> Placement | Any:
    """A task's ``where = { workers = ["db-1"], resources = { cpu = 4 } }``."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _WHERE_KEYS)
    fields: dict[str, Any] = {}
    if "workers" in table:
        workers = table["workers"]
        fields["workers"] = f.as_str_list([workers] if isinstance(workers, str) else workers,
                                          child_path(path, "workers"), problems)
    if "resources" in table:
        fields["resources"] = as_resources(table["resources"], child_path(path, "resources"), problems)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_WHERE_KEYS):
        return INVALID
    return Placement(**fields)


def _as_local(value: Any, path: str, problems: Problems) -> LocalClusterSettings | Any:
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _LOCAL_KEYS)
    fields: dict[str, Any] = {}
    if "workers" in table:
        fields["workers"] = f.as_int(table["workers"], child_path(path, "workers"), problems, low=1, high=256)
    if "threads" in table:
        fields["threads"] = f.as_int(table["threads"], child_path(path, "threads"), problems, low=1, high=1024)
    if "resources" in table:
        fields["resources"] = as_resources(table["resources"], child_path(path, "resources"), problems)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_LOCAL_KEYS):
        return INVALID
    return LocalClusterSettings(**fields)


def _as_address(value: Any, path: str, problems: Problems) -> str | Any:
    text = f.as_str(value, path, problems)
    if text is INVALID:
        return INVALID
    if not _ADDRESS_RE.match(text):
        problems.add(path, f'expected a scheduler address such as "tcp://10.0.0.5:8786", got {text!r}')
        return INVALID
    return text


def as_executor(value: Any, path: str, problems: Problems) -> ExecutorConfig | Any:
    """The ``[executor]`` table: ``kind = "local"`` or ``kind = "dask"`` with exactly one of
    ``address`` and ``local``."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _EXECUTOR_KEYS)
    checkers = {
        "kind": lambda v, p, pr: f.as_choice(v, p, pr, ("local", "dask")),
        "address": _as_address,
        "local": _as_local,
        "send_all": f.as_bool,
        "worker_dir": f.as_str,
        "connect_timeout": lambda v, p, pr: f.as_duration(v, p, pr, positive=True),
        "poll_interval": lambda v, p, pr: f.as_duration(v, p, pr, positive=True),
    }
    fields: dict[str, Any] = {}
    for key, check in checkers.items():
        if key in table:
            fields[key] = check(table[key], child_path(path, key), problems)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_EXECUTOR_KEYS):
        return INVALID
    if fields.get("kind", "local") == "dask":
        if "address" in fields and "local" in fields:
            problems.add(path, 'kind = "dask" takes address or local, not both')
            return INVALID
        if "address" not in fields and "local" not in fields:
            problems.add(path, 'kind = "dask" needs address = "tcp://HOST:PORT" or local = { workers = N }')
            return INVALID
    return ExecutorConfig(**fields)
