"""Finding a task's Python function and checking its params, before any process starts.

Used by the daemon (a failure here is a ``config`` error, never retried, and makes a task
*orphaned* at load time) and by the runner in the child (which converts params the same way).
Light on purpose: no asyncio, no daemon imports.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from taskflow.pytask.context import Context
from taskflow.pytask.history import History
from taskflow.pytask.registry import registered

#: Types a parameter may be annotated with to have it injected instead of passed as a param.
#: Any other annotation is a parameter checked against the run's params (a type msgspec
#: cannot check is a ``config`` error, as before).
INJECTED_TYPES: tuple[type, ...] = (Context, History, logging.Logger)


class ResolveError(Exception):
    """The function named by ``module:function`` cannot be found; one sentence."""


class ParamError(Exception):
    """Params do not fit the function's signature; one sentence naming the parameter."""


def resolve(ref: str, search_paths: Sequence[str] = ()) -> Callable[..., Any]:
    """Import ``module`` of ``module:function`` and return the ``@taskflow.task`` function.

    ``search_paths`` (the task file's folder, then ``python_path``) go to the front of
    ``sys.path`` so task modules shadow nothing of the daemon's by accident of order.
    """
    module_name, sep, func_name = ref.partition(":")
    if not sep or not module_name or not func_name:
        raise ResolveError(f'python reference "{ref}" must look like "module:function"')
    for path in reversed(list(search_paths)):
        if path not in sys.path:
            sys.path.insert(0, path)
    _forget_if_stale(module_name)
    try:
        module = importlib.import_module(module_name)
        _LOADED[module_name] = _stamp(module)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ResolveError(f'module "{module_name}" not found') from None
        raise ResolveError(f'importing module "{module_name}" failed: {_one_line(exc)}') from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a task module must never take the daemon down
        raise ResolveError(f'importing module "{module_name}" failed: {_one_line(exc)}') from None
    fn = registered(module.__name__, func_name)
    if fn is None:
        raise ResolveError(
            f'module "{module_name}" has no function "{func_name}" registered with @taskflow.task'
        )
    return fn


# module name -> (file, mtime) when the daemon imported it
_LOADED: dict[str, tuple[str, int] | None] = {}


def _stamp(module: Any) -> tuple[str, int] | None:
    path = getattr(module, "__file__", None)
    try:
        return (path, os.stat(path).st_mtime_ns) if path else None
    except OSError:
        return None


def _forget_if_stale(module_name: str) -> None:
    """Drop a task module the daemon imported earlier if its file changed or went away, so a
    hot reload sees edited functions (task modules are imported by the daemon once)."""
    module = sys.modules.get(module_name)
    if module is None or module_name not in _LOADED:
        return  # not one of ours (or never imported): leave it alone
    if _stamp(module) != _LOADED[module_name]:
        del sys.modules[module_name]
        importlib.invalidate_caches()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    if isinstance(exc, SyntaxError) and exc.lineno:
        detail = f"{exc.msg} ({exc.filename}, line {exc.lineno})"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def context_parameter(fn: Callable[..., Any]) -> str | None:
    """Name of the parameter annotated ``taskflow.Context``, if any."""
    for name, hint in _hints(fn).items():
        if hint is Context:
            return name
    return None


def injected_parameters(fn: Callable[..., Any]) -> dict[str, type]:
    """The parameters to inject, by name: those annotated with one of ``INJECTED_TYPES``."""
    return {name: hint for name, hint in _hints(fn).items() if hint in INJECTED_TYPES}


def wants_history(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` takes a ``taskflow.History`` (the daemon then reads it at start)."""
    return History in _hints(fn).values()


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: treat as untyped
        hints = {}
    hints.pop("return", None)
    return hints


def check_params(fn: Callable[..., Any], params: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert ``params`` against ``fn``'s signature and type hints.

    Unknown params are refused unless the function takes ``**kwargs``; the ``Context``
    parameter and the other ``INJECTED_TYPES`` are skipped (they are injected). Returns the converted params.
    """
    signature = inspect.signature(fn)
    hints = _hints(fn)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    takes_kwargs = False
    for name, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            takes_kwargs = True
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL or hints.get(name) in INJECTED_TYPES:
            continue
        hint = hints.get(name, Any)
        if param.default is inspect.Parameter.empty:
            fields.append((name, hint))
        else:
            fields.append((name, hint, param.default))
    known = {f[0] for f in fields}
    extra = {k: v for k, v in params.items() if k not in known}
    if extra and not takes_kwargs:
        name = sorted(extra)[0]
        raise ParamError(f"unknown parameter '{name}' (the function takes: {', '.join(sorted(known)) or 'none'})")
    shape = msgspec.defstruct("Params", fields, kw_only=True)
    given = {k: v for k, v in params.items() if k in known}
    try:
        converted = msgspec.convert(given, shape, strict=False)
    except msgspec.ValidationError as exc:
        raise ParamError(_param_message(str(exc))) from None
    except TypeError as exc:  # a hint msgspec cannot handle
        raise ParamError(f"cannot check parameters: {exc}") from None
    out = {name: getattr(converted, name) for name in known}
    out.update(extra)
    return out


def _param_message(text: str) -> str:
    """msgspec says "Expected `int`, got `str` - at `$.count`"; we say it the CLI way."""
    where = ""
    if " - at `$." in text:
        text, _, path = text.partition(" - at `$.")
        where = path.rstrip("`")
    text = text.replace("`", "")
    if text.startswith("Object missing required field "):
        return f"missing required parameter '{text.removeprefix('Object missing required field ')}'"
    text = text[0].lower() + text[1:] if text else text
    return f"parameter '{where}': {text}" if where else f"parameters: {text}"
