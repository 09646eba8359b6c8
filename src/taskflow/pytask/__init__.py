"""Python tasks: the ``@taskflow.task`` registry and the ``Context`` injected into them
(``History`` is in ``taskflow.pytask.history``: it needs msgspec, a task module need not)."""

from taskflow.pytask.context import Context
from taskflow.pytask.registry import registered, task

__all__ = ["Context", "registered", "task"]
