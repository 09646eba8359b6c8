"""taskflow: a task orchestrator for operations engineers.

``import taskflow`` stays light (no asyncio, Textual or daemon imports) because task modules
import it to register functions, and the CLI imports it on every call::

    import taskflow

    @taskflow.task
    def greet(name: str, ctx: taskflow.Context) -> str:
        ctx.log(f"hello {name}")
        return name

The task API is loaded on first use (PEP 562): the CLI, which only wants ``__version__``,
must not pay for it on every ``taskflow status --json``.
"""

from __future__ import annotations

from taskflow._lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from taskflow.pytask import Context, task
    from taskflow.pytask.history import History, PastRun
    from taskflow.pytask.hooks import RunRejected, post_run, pre_run

__version__ = "0.1.0"
__all__ = ["Context", "History", "PastRun", "RunRejected", "__version__", "post_run", "pre_run", "task"]

#: Where each lazily loaded public name lives.
_HOMES = {
    "Context": "taskflow.pytask",
    "History": "taskflow.pytask.history",
    "PastRun": "taskflow.pytask.history",
    "task": "taskflow.pytask",
    "RunRejected": "taskflow.pytask.hooks",
    "post_run": "taskflow.pytask.hooks",
    "pre_run": "taskflow.pytask.hooks",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
