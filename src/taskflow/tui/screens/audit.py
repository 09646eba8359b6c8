"""Who did what: the daemon's audit log of mutating requests, newest first."""

from __future__ import annotations

from rich.text import Text

from taskflow.model import AuditEntry
from taskflow.tui.bindings import AUDIT_BINDINGS
from taskflow.tui.glyphs import table_time
from taskflow.tui.screens.base import TableViewScreen
from taskflow.tui.widgets.diff_table import DiffTable

REFRESH_SECONDS = 5.0


def audit_cells(entry: AuditEntry) -> tuple[Text, ...]:
    args = " ".join(f"{k}={v}" for k, v in entry.args.items())
    return (
        Text(table_time(entry.at)),
        Text(entry.user, style="bold"),
        Text(entry.role.value),
        Text(entry.action),
        Text(args),
        Text(entry.outcome, style="" if entry.outcome == "ok" else "red"),
    )


class AuditScreen(TableViewScreen):
    """Re-read every few seconds while shown (audit entries are not pushed as events)."""

    VIEW_NAME = "audit"
    COLUMNS = ["when", "user", "role", "action", "arguments", "outcome"]
    TABLE_TITLE = "Audit log"
    BINDINGS = AUDIT_BINDINGS
    DEFAULT_CSS = "AuditScreen DiffTable { height: 1fr; border: round $primary; }"

    def on_mount(self) -> None:
        if self.session.live_clock:
            self.set_interval(REFRESH_SECONDS, self.action_refresh_audit)

    def on_screen_resume(self) -> None:
        self.action_refresh_audit()

    def reload(self) -> None:
        table = self.query_one(DiffTable)
        if not table.columns:
            return
        entries = sorted(self.session.world.audit, key=lambda e: (e.at, e.id or 0), reverse=True)
        rows = [(str(e.id) if e.id is not None else f"{e.at.isoformat()}-{i}", audit_cells(e)) for i, e in enumerate(entries)]
        table.sync(self.keep(rows))

    def action_refresh_audit(self) -> None:
        async def refresh() -> None:
            await self.session.load_audit()
            self.reload()

        if self.session.client is not None:
            self.run_worker(refresh(), exclusive=True, group="audit")
