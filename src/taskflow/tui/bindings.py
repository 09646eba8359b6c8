"""Every key binding of the TUI, each with a stable id so users can remap it.

A config file's ``[tui.keys]`` table maps binding ids to keys (``"taskflow.rerun" = "ctrl+r"``);
``TaskflowApp`` hands that mapping to Textual's ``App.set_keymap``. The help screen and
``docs/tui.md`` are built from these same lists, so they never drift from the real keys.
"""

from __future__ import annotations

from textual.binding import Binding

# Actions that change daemon state: hidden from viewers' footers and refused for them.
MUTATING_ACTIONS: frozenset[str] = frozenset(
    {
        "rerun",
        "rerun_failed",
        "cancel",
        "toggle_enabled",
        "trigger",
        "trip_breaker",
        "reset_breaker",
        "toggle_pause",
    }
)

APP_BINDINGS: list[Binding] = [
    Binding("q", "quit", "Quit", id="taskflow.quit"),
    Binding("question_mark", "help", "Help", id="taskflow.help", key_display="?"),
    Binding("colon", "command_palette", "Commands", id="taskflow.palette", show=False, key_display=":"),
    Binding("1", "switch_mode('dashboard')", "Dashboard", id="taskflow.view.dashboard", show=False),
    Binding("2", "switch_mode('history')", "History", id="taskflow.view.history", show=False),
    Binding("3", "switch_mode('breakers')", "Breakers", id="taskflow.view.breakers", show=False),
    Binding("4", "switch_mode('audit')", "Audit", id="taskflow.view.audit", show=False),
    Binding("5", "show_hosts", "Hosts", id="taskflow.view.hosts", show=False),
]

RUN_ACTION_BINDINGS: list[Binding] = [
    Binding("r", "rerun", "Rerun", id="taskflow.rerun"),
    Binding("R", "rerun_failed", "Rerun failed", id="taskflow.rerun_failed", key_display="R"),
    Binding("c", "cancel", "Cancel", id="taskflow.cancel"),
    # As in k9s, space marks the row under the cursor (and leaves the cursor where it is).
    Binding("space,x", "mark", "Mark", id="taskflow.mark", show=False),
]

DASHBOARD_BINDINGS: list[Binding] = [
    *RUN_ACTION_BINDINGS,
    Binding("e", "toggle_enabled", "Enable/disable", id="taskflow.toggle"),
    Binding("p", "toggle_pause", "Pause/resume", id="taskflow.pause", show=False),
    Binding("enter", "trigger", "Run", id="taskflow.trigger", priority=False),
    Binding("l", "logs", "Logs", id="taskflow.logs"),
    Binding("slash", "filter", "Filter", id="taskflow.filter", key_display="/"),
    Binding("tab", "app.focus_next", "Next pane", id="taskflow.focus_next", show=False),
    Binding("escape", "back", "Back", id="taskflow.back", show=False),
]

LOG_BINDINGS: list[Binding] = [
    Binding("f", "toggle_follow", "Follow/pause", id="taskflow.log.follow"),
    Binding("s", "cycle_stream", "Stream", id="taskflow.log.stream"),
    Binding("w", "toggle_wrap", "Wrap", id="taskflow.log.wrap"),
    Binding("slash", "search", "Search", id="taskflow.log.search", key_display="/"),
    Binding("n", "search_next", "Next match", id="taskflow.log.next", show=False),
    Binding("N", "search_previous", "Previous match", id="taskflow.log.previous", show=False),
    Binding("g,home", "jump_top", "Top", id="taskflow.log.top", show=False),
    Binding("G,end", "jump_tail", "Tail", id="taskflow.log.tail", show=False),
]

BREAKER_BINDINGS: list[Binding] = [
    Binding("t", "trip_breaker", "Trip", id="taskflow.breaker.trip"),
    Binding("o", "reset_breaker", "Reset", id="taskflow.breaker.reset"),
    Binding("slash", "filter", "Filter", id="taskflow.filter", key_display="/"),
    Binding("escape", "back", "Back", id="taskflow.back", show=False),
]

HISTORY_BINDINGS: list[Binding] = [
    *RUN_ACTION_BINDINGS,
    Binding("s", "cycle_state", "State filter", id="taskflow.history.state"),
    Binding("slash", "filter", "Filter", id="taskflow.filter", key_display="/"),
    Binding("escape", "back", "Back", id="taskflow.back", show=False),
]

AUDIT_BINDINGS: list[Binding] = [
    Binding("ctrl+r", "refresh_audit", "Refresh", id="taskflow.audit.refresh"),
    Binding("slash", "filter", "Filter", id="taskflow.filter", key_display="/"),
    Binding("escape", "back", "Back", id="taskflow.back", show=False),
]

HOSTS_BINDINGS: list[Binding] = [
    Binding("enter", "open_host", "Drive host", id="taskflow.hosts.open"),
    Binding("slash", "filter", "Filter", id="taskflow.filter", key_display="/"),
    Binding("escape", "back", "Back", id="taskflow.back", show=False),
]

#: The trees' and tables' own movement keys (not remappable), listed in help.
MOVEMENT_KEYS: list[tuple[str, str]] = [
    ("↑/↓, k/j", "Move the cursor"),
    ("←/h, →", "Collapse (or go to the parent) / expand"),
    ("pgup/pgdn", "Page up / down"),
    ("home/end", "First / last row"),
    ("shift+↑/↓", "Previous / next sibling"),
]

ALL_BINDING_GROUPS: dict[str, list[Binding]] = {
    "Everywhere": APP_BINDINGS,
    "Dashboard": DASHBOARD_BINDINGS,
    "Log pane": LOG_BINDINGS,
    "History": HISTORY_BINDINGS,
    "Breakers": BREAKER_BINDINGS,
    "Audit": AUDIT_BINDINGS,
    "Hosts": HOSTS_BINDINGS,
}


def viewer_reason(*, forced: bool = False) -> str:
    """Why a mutating key is greyed out: one sentence for the footer tooltip and notices.

    ``forced``: the client was opened read-only (``tui --read-only``, as ``taskflow web``
    serves it) rather than the daemon granting only the viewer role.
    """
    if forced:
        return ("read-only: this dashboard was opened read-only "
                "(as taskflow web serves it unless started with --allow-actions)")
    return "read-only: your role is viewer; ask for the taskflow-ops group to change things"
