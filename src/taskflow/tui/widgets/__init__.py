"""The TUI's widgets, one per module, re-exported here (as Textual lays out its own)."""

from taskflow.tui.widgets.banner import ConnectionBanner
from taskflow.tui.widgets.detail import DetailPane
from taskflow.tui.widgets.log_pane import LogPane
from taskflow.tui.widgets.run_tree import RunTreeView
from taskflow.tui.widgets.status_bar import StatusBar
from taskflow.tui.widgets.task_tree import TaskTree

__all__ = ["ConnectionBanner", "DetailPane", "LogPane", "RunTreeView", "StatusBar", "TaskTree"]
