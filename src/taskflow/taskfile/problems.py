"""Collecting every problem of one file, each with its key path.

Validation never stops at the first error: an operator fixing a broken task file wants the
whole list at once. ``Problems`` is the one place that formats key paths, so messages look the
same whether they come from syntax, schema or dependency checks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from taskflow.model import TaskFileError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(*parts: str | int) -> str:
    """Join keys as ``tasks.nightly.children.verify.depends_on[0]``.

    Keys that are not bare words (task names may contain dots) are quoted the way TOML quotes
    them, so the path stays unambiguous.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
        out = f"{out}.{key}" if out else key
    return out


def child_path(path: str, part: str | int) -> str:
    """``path`` extended by one key or index."""
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{key_path(part)}" if path else key_path(part)


def type_name(value: object) -> str:
    """How a decoded value's type is called in task-file terms."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


class Problems:
    """The errors found so far in one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[TaskFileError] = []

    def add(self, path: str, reason: str) -> None:
        self.errors.append(TaskFileError(self.file, path, reason))

    def wrong_type(self, path: str, expected: str, value: object) -> None:
        self.add(path, f"expected {expected}, got {type_name(value)}")

    def unknown_keys(self, path: str, table: dict[object, object], known: Iterable[str]) -> None:
        """Report every key of ``table`` not in ``known``, suggesting a close match."""
        allowed = sorted(known)
        for key in table:
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {type_name(key)} {key!r}")
                continue
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            self.add(child_path(path, key), f"unknown key{hint}")

    def __bool__(self) -> bool:
        return bool(self.errors)
