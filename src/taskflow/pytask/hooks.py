"""``@taskflow.pre_run`` / ``@taskflow.post_run``: hooks that plugins register.

Kept here (light, no engine imports) so plugin modules only need ``import taskflow``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class RunRejected(Exception):
    """Raised by a pre-run hook to refuse a run; the message is shown to the user."""


_PRE: list[Callable[..., Any]] = []
_POST: list[Callable[..., Any]] = []


def pre_run(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn(task_spec, params) -> params | None``; may raise ``RunRejected``."""
    _PRE.append(fn)
    return fn


def post_run(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn(run)``, called when a root run reaches a terminal state."""
    _POST.append(fn)
    return fn


def remove_hook(fn: Callable[..., Any]) -> None:
    """Unregister ``fn`` (a plugin being unloaded, or a test cleaning up)."""
    for hooks in (_PRE, _POST):
        while fn in hooks:
            hooks.remove(fn)


def pre_run_hooks() -> tuple[Callable[..., Any], ...]:
    return tuple(_PRE)


def post_run_hooks() -> tuple[Callable[..., Any], ...]:
    return tuple(_POST)
