"""The taskflow terminal UI (Textual): dashboard, history, breakers and audit views.

It reaches the daemon only through ``taskflow.client``. ``run_tui`` is what the CLI calls;
``TaskflowApp`` is exposed for tests and embedding; ``Snapshot`` feeds it fixed data.
"""

from taskflow.tui.app import TaskflowApp, run_tui
from taskflow.tui.state import Snapshot, WorldState

__all__ = ["Snapshot", "TaskflowApp", "WorldState", "run_tui"]
