"""taskflow: a task orchestrator for operations engineers.

``import taskflow`` stays light (no asyncio, Textual or daemon imports) because task modules
import it to register functions, and the CLI imports it on every call::

    import taskflow

    @taskflow.task
    def greet(name: str, ctx: taskflow.Context) -> str:
        ctx.log(f"hello {name}")
        return name
"""

from taskflow.pytask import Context, task
from taskflow.pytask.hooks import RunRejected, post_run, pre_run

__version__ = "0.1.0"
__all__ = ["Context", "RunRejected", "__version__", "post_run", "pre_run", "task"]
