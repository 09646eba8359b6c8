"""Audit entries: who changed what, through which request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class AuditEntry(msgspec.Struct, kw_only=True):
    at: datetime
    user: str
    role: Role
    action: str  # the request kind, e.g. "cancel", "disable", "run"
    args: dict[str, Any] = {}
    outcome: str = "ok"  # "ok" or the error message
    id: int | None = None
