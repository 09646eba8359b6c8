"""The names of the variables that carry a dependency's result to a task (shared by the
engine, which sets them, and ``Context.upstream``, which reads them)."""

from __future__ import annotations

import re


def upstream_var(task: str, what: str = "RESULT") -> str:
    """``nightly/back-up.v2`` → ``TASKFLOW_UPSTREAM_BACK_UP_V2_RESULT`` (or ``_STATE``)."""
    name = re.sub(r"[^A-Za-z0-9]", "_", task.rsplit("/", 1)[-1]).upper()
    return f"TASKFLOW_UPSTREAM_{name}_{what}"
