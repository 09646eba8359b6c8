"""The taskflow terminal UI (Textual): dashboard, history, breakers and audit views.

It reaches the daemon only through ``taskflow.client``. ``run_tui`` is what the CLI calls;
``TaskflowApp`` is exposed for tests and embedding; ``Snapshot`` feeds it fixed data.

Names are loaded on first use (PEP 562): ``taskflow.tui.state`` and ``taskflow.tui.feed``
are Textual-free, and importing them must not load Textual through this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskflow._lazy import lazy_exports

if TYPE_CHECKING:
    from taskflow.tui.app import TaskflowApp, run_tui
    from taskflow.tui.state import Snapshot, WorldState

__all__ = ["Snapshot", "TaskflowApp", "WorldState", "run_tui"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"TaskflowApp": "app", "run_tui": "app", "Snapshot": "state", "WorldState": "state"},
    __all__,
    globals(),
)
