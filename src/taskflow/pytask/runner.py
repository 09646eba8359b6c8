"""The child-side runner of a Python task: ``python -m taskflow.pytask.runner CALL.json``.

The executor starts it through the same shell wrapper as a command, so timeouts, limits,
cancel and output capture are shared. It imports the module, finds the registered function,
injects ``taskflow.Context``, ``taskflow.History`` and ``logging.Logger`` parameters by type, runs it (``asyncio.run`` for coroutines), and writes the result
file: ``{"ok": true, "result": ...}`` or ``{"ok": false, "exception": {type, message,
traceback}}``. Exit status 0 on success, 1 on exception.

SIGTERM (cancel, timeout) sets ``ctx.cancelled`` and, for a coroutine, cancels it; a sync
function that ignores the flag is interrupted ``cancel_grace`` seconds later by an exception
raised in its thread, and the executor's KILL backstops a function that swallows even that.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import sys
import traceback
from typing import Any

import msgspec

from taskflow.pytask.context import Context
from taskflow.pytask.history import HISTORY_KEY, History
from taskflow.pytask.resolve import ParamError, ResolveError, check_params, injected_parameters, resolve


class TaskCancelled(Exception):
    """Raised inside a sync task that did not stop within the grace after SIGTERM."""


def _describe(value: Any) -> str:
    return f"<non-serializable: {type(value).__name__}>"


def _encode_result(value: Any) -> bytes:
    """JSON for the result; anything JSON cannot hold is replaced by a description."""
    try:
        return msgspec.json.encode({"ok": True, "result": value}, enc_hook=_describe)
    except (TypeError, ValueError, OverflowError):
        return msgspec.json.encode({"ok": True, "result": _describe(value)})


def _exception_record(exc: BaseException) -> bytes:
    record = {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }
    return json.dumps({"ok": False, "exception": record}).encode()


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class _Cancellation:
    """Turns SIGTERM/SIGINT/SIGHUP into ``ctx.cancel()`` and a bounded grace."""

    def __init__(self, ctx: Context, grace: float) -> None:
        self.ctx = ctx
        self.grace = grace
        self.loop: asyncio.AbstractEventLoop | None = None
        self.main_task: asyncio.Task[Any] | None = None
        self.signalled: int | None = None
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.signalled is not None:
            return
        self.signalled = signum
        self.ctx.cancel()
        if self.loop is not None and self.main_task is not None:
            self.loop.call_soon_threadsafe(self.main_task.cancel)
            return
        # Sync task: give it the grace to notice ctx.cancelled, then interrupt it.
        signal.signal(signal.SIGALRM, self._interrupt)
        signal.setitimer(signal.ITIMER_REAL, self.grace)

    def _interrupt(self, signum: int, frame: Any) -> None:
        raise TaskCancelled(f"cancelled by {signal.Signals(self.signalled or signal.SIGTERM).name}")


def _run(fn: Any, kwargs: dict[str, Any], cancellation: _Cancellation) -> Any:
    if inspect.iscoroutinefunction(fn):

        async def main() -> Any:
            cancellation.loop = asyncio.get_running_loop()
            cancellation.main_task = asyncio.current_task()
            if cancellation.signalled is not None:  # TERM arrived during start-up
                raise asyncio.CancelledError
            return await fn(**kwargs)

        return asyncio.run(main())
    return fn(**kwargs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], "rb") as f:
        call = json.loads(f.read())
    result_path: str = call["result"]
    history_records = call["params"].pop(HISTORY_KEY, None)
    ctx = Context(
        run_id=call["run_id"],
        attempt=call["attempt"],
        params=call["params"],
        task=call["task"],
        control_path=call["control"],
    )
    cancellation = _Cancellation(ctx, float(call.get("cancel_grace", 1.0)))
    try:
        fn = resolve(call["function"], call["paths"])
        kwargs = check_params(fn, call["params"])
        for name, kind in injected_parameters(fn).items():
            if kind is Context:
                kwargs[name] = ctx
            elif kind is History:
                kwargs[name] = History.from_call(history_records)
            else:  # logging.Logger: the context's, writing to the attempt's stderr
                kwargs[name] = ctx.logger
        value = _run(fn, kwargs, cancellation)
    except (ResolveError, ParamError) as exc:
        _write_atomic(result_path, _exception_record(exc))
        print(f"taskflow: {exc}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 0:
            _write_atomic(result_path, _encode_result(None))
        return code
    except BaseException as exc:  # noqa: BLE001 - the task's own failure, whatever it is
        if isinstance(exc, asyncio.CancelledError) and cancellation.signalled is not None:
            exc = TaskCancelled(f"cancelled by {signal.Signals(cancellation.signalled).name}")
        _write_atomic(result_path, _exception_record(exc))
        traceback.print_exception(exc, file=sys.stderr)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    encoded = _encode_result(value)
    _write_atomic(result_path, encoded)
    downstream = os.environ.get("TASKFLOW_RESULT")  # the bare value, for the tasks that depend on this one
    if downstream:
        _write_atomic(downstream, msgspec.json.encode(msgspec.json.decode(encoded)["result"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
