"""Pre- and post-run hooks registered from Python plugins.

A pre-run hook sees the task and the trigger-time params; it may return adjusted params or
raise ``RunRejected`` to refuse the run. A post-run hook sees the finished root run. A hook
that fails for any other reason is logged and never fails the run.
"""

from __future__ import annotations

import logging
from typing import Any

from taskflow.model import Run, TaskSpec
from taskflow.pytask.hooks import RunRejected, post_run_hooks, pre_run_hooks

log = logging.getLogger(__name__)


def apply_pre_run(spec: TaskSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Run every pre-run hook in registration order; ``RunRejected`` propagates."""
    for hook in pre_run_hooks():
        try:
            adjusted = hook(spec, dict(params))
        except RunRejected:
            raise
        except Exception:
            log.exception("pre-run hook %s failed; ignored", getattr(hook, "__name__", hook))
            continue
        if adjusted is not None:
            params = dict(adjusted)
    return params


def apply_post_run(run: Run) -> None:
    for hook in post_run_hooks():
        try:
            hook(run)
        except Exception:
            log.exception("post-run hook %s failed; ignored", getattr(hook, "__name__", hook))
