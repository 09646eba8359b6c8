"""The ``@taskflow.task`` registry: Python functions that task files may name.

A task file says ``python = "module:function"``; the function must be decorated with
``@taskflow.task`` (optionally ``@taskflow.task(name="other")``). The registry is per process:
the daemon fills it when it resolves task files, the child process that runs an attempt fills
it again when it imports the module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

# (module, registered name) -> function
_REGISTRY: dict[tuple[str, str], Callable[..., Any]] = {}


@overload
def task(fn: F, /) -> F: ...
@overload
def task(*, name: str | None = None) -> Callable[[F], F]: ...


def task(fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Register a sync or async function as a taskflow task."""

    def register(func: F) -> F:
        _REGISTRY[(func.__module__, name or func.__name__)] = func
        func.__taskflow_task__ = name or func.__name__  # type: ignore[attr-defined]
        return func

    if fn is not None:
        return register(fn)  # type: ignore[arg-type]
    return register


def registered(module: str, name: str) -> Callable[..., Any] | None:
    """The function registered under ``module:name``, if its module was imported."""
    return _REGISTRY.get((module, name))
