"""What ``taskflow service status`` found: the unit, the daemon, the journal's last lines."""

from __future__ import annotations

import msgspec

from taskflow.protocol import StatusInfo
from taskflow.service.journal import JournalEntry
from taskflow.service.unit_state import UnitState


class ServiceStatus(msgspec.Struct, kw_only=True):
    """Each part, or the one sentence saying why it could not be read."""

    unit: UnitState | None = None
    unit_error: str | None = None
    daemon: StatusInfo | None = None
    daemon_error: str | None = None
    journal: list[JournalEntry] = []
    journal_error: str | None = None

    @property
    def ok(self) -> bool:
        """The unit is active and the daemon answers."""
        return self.unit is not None and self.unit.running and self.daemon is not None
