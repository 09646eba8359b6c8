"""Circuit breaker state of one service, as stored and shown."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec


class BreakerStatus(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerState(msgspec.Struct, kw_only=True):
    service: str
    status: BreakerStatus = BreakerStatus.CLOSED
    consecutive_failures: int = 0
    opened_at: datetime | None = None
    half_open_at: datetime | None = None  # when an open breaker lets one probe through
    probe_run_id: str | None = None
    tripped_by: str | None = None  # user who tripped it by hand
    updated_at: datetime | None = None
