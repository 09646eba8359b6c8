"""The cluster of the dask executor: its scheduler, up or lost (and why), and each worker
with its resources and how many of taskflow's attempts it runs — what ``taskflow status``
prints under ``cluster``, live. Opened from the command palette (``Cluster``).

It re-renders when the daemon's status changes (the ``stats`` events), not on a timer.
"""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from taskflow.tui.messages import WorldChanged
from taskflow.tui.screens.modal import OwnKeysModal
from taskflow.tui.session import Session
from taskflow.tui.widgets.detail import describe_cluster


class ClusterScreen(OwnKeysModal[None]):
    """The scheduler and its workers, as the daemon last saw them."""

    DEFAULT_CSS = """
    ClusterScreen { align: center middle; }
    ClusterScreen > VerticalScroll {
        width: 100; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q", "close", "Close", id="taskflow.cluster.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text("Cluster")
            yield Static(id="cluster-body")
        yield self.own_keys_footer()

    def on_mount(self) -> None:
        self.refresh_cluster()

    def on_world_changed(self, message: WorldChanged) -> None:
        if message.changes.status or message.changes.resync:
            self.refresh_cluster()

    def refresh_cluster(self) -> None:
        session = cast("Session", self.app)
        status = session.world.status
        body = self.query_one("#cluster-body", Static)
        if status is None:
            body.update(Text("No status from the daemon yet.", style="italic"))
        elif status.cluster is None:
            body.update(Text("This daemon runs every attempt on its own host (the local executor).",
                             style="italic"))
        else:
            body.update(describe_cluster(status.cluster, session.palette))

    def action_close(self) -> None:
        self.dismiss(None)
