"""``taskflow.Context``: what a Python task may know and do about its own run.

A parameter annotated ``taskflow.Context`` is injected. The task runs in a child process; the
context writes progress to the attempt's control file (``TASKFLOW_CONTROL``) as JSON lines, so
it survives a daemon restart, and logs to the attempt's stderr.

``logging``, ``json`` and ``threading`` are imported when a context is made or used, not when
this module is: ``import taskflow`` (every task module, the CLI) must stay cheap, and only
the child process that runs a task ever builds a ``Context``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime


class Context:
    """Run id, attempt number, params, a logger, cancellation and progress reporting.

    ``scheduled_at``: the schedule slot this run is for (an aware UTC datetime) when the
    schedule fired it, caught it up or ``taskflow backfill`` made it; None for a run
    triggered by hand. It comes from ``TASKFLOW_SCHEDULED_AT`` unless given."""

    def __init__(
        self,
        run_id: str = "",
        attempt: int = 1,
        params: dict[str, Any] | None = None,
        task: str = "",
        control_path: str | None = None,
        scheduled_at: datetime | None = None,
    ) -> None:
        self.run_id = run_id
        self.scheduled_at = scheduled_at if scheduled_at is not None else _slot_from_env()
        self.attempt = attempt
        self.task = task
        self.params: dict[str, Any] = dict(params or {})
        self._control_path = control_path
        import logging
        import threading

        self._cancelled = threading.Event()
        self.logger = logging.getLogger(f"taskflow.task.{task or 'anonymous'}")
        if not self.logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
            self.logger.addHandler(handler)
            self.logger.setLevel(logging.INFO)
            self.logger.propagate = False

    def upstream(self, name: str, as_type: Any = None) -> Any:
        """The result of the dependency ``name`` (a sibling this task ``depends_on``): the
        value its Python function returned, or what its command wrote to
        ``$TASKFLOW_RESULT`` (JSON when it parses, else text). Given ``as_type`` (a class, a
        msgspec Struct, ``list[int]``...) it is converted to that type, and a mismatch raises
        ``msgspec.ValidationError``. ``LookupError`` when there is no such dependency or it
        left no result (it failed, or wrote none)."""
        from taskflow.pytask.upstream import upstream_var

        path = os.environ.get(upstream_var(name))
        state = os.environ.get(upstream_var(name, "STATE"))
        if state is None:
            raise LookupError(f"{self.task or 'this task'} has no dependency named {name!r}")
        try:
            with open(path or "", "rb") as f:
                data = f.read()
        except OSError:
            raise LookupError(f"dependency {name!r} ({state}) left no result") from None
        import json

        try:
            value: Any = json.loads(data)
        except ValueError:
            value = data.decode(errors="replace").removesuffix("\n")
        if as_type is None:
            return value
        import msgspec

        return msgspec.convert(value, as_type)

    @property
    def cancelled(self) -> bool:
        """True once the run was cancelled or timed out; long loops should check it."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on cancellation."""
        return self._cancelled.wait(timeout)

    def log(self, message: str) -> None:
        """One line to the attempt's stdout."""
        print(message, flush=True)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress between 0 and 1; shown live by ``show`` and the TUI."""
        fraction = min(1.0, max(0.0, float(fraction)))
        self._control({"progress": fraction, "message": message})

    def _control(self, record: dict[str, Any]) -> None:
        if not self._control_path:
            return
        import json

        record["at"] = time.time()
        line = json.dumps(record, default=repr) + "\n"
        fd = os.open(self._control_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def _slot_from_env() -> datetime | None:
    """``TASKFLOW_SCHEDULED_AT`` as an aware datetime; None when unset or unreadable."""
    text = os.environ.get("TASKFLOW_SCHEDULED_AT")
    if not text:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
