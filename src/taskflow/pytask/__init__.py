"""Python tasks: the ``@taskflow.task`` registry and the ``Context`` injected into them."""

from taskflow.pytask.context import Context
from taskflow.pytask.registry import registered, task

__all__ = ["Context", "registered", "task"]
