"""The domain model: task specs, runs, attempts, breakers, audit entries, configuration.

Pure data (msgspec Structs) with no I/O; every other layer speaks in these types.

Names are loaded from their submodule on first access (PEP 562), so that a light client
asking for ``Role`` does not pay for building every Struct and enum of the model: ``taskflow
status --json`` runs on every monitoring poll and its start-up is most of its cost.
"""

from __future__ import annotations

from taskflow._lazy import lazy_exports
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskflow.model.audit import AuditEntry, Role
    from taskflow.model.breaker import BreakerState, BreakerStatus
    from taskflow.model.config import DaemonConfig, RetentionConfig
    from taskflow.model.ids import new_ulid
    from taskflow.model.run import (
        ACTIVE_STATES,
        TERMINAL_STATES,
        Attempt,
        ErrorType,
        Run,
        RunState,
        RunTree,
        SkipReason,
        Trigger,
    )
    from taskflow.model.spec import (
        BreakerSettings,
        Dependency,
        Limits,
        Priority,
        RateLimit,
        RetryPolicy,
        Schedule,
        ServiceSpec,
        TaskFileError,
        TaskSet,
        TaskSpec,
    )
    from taskflow.model.units import format_duration, format_size, parse_duration, parse_size

#: Which submodule defines each public name.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("AuditEntry", "Role"), "audit"),
    **dict.fromkeys(("BreakerState", "BreakerStatus"), "breaker"),
    **dict.fromkeys(("DaemonConfig", "RetentionConfig"), "config"),
    "new_ulid": "ids",
    **dict.fromkeys(
        ("ACTIVE_STATES", "TERMINAL_STATES", "Attempt", "ErrorType", "Run", "RunState", "RunTree",
         "SkipReason", "Trigger"),
        "run",
    ),
    **dict.fromkeys(
        ("BreakerSettings", "Dependency", "Limits", "Priority", "RateLimit", "RetryPolicy",
         "Schedule", "ServiceSpec", "TaskFileError", "TaskSet", "TaskSpec"),
        "spec",
    ),
    **dict.fromkeys(("format_duration", "format_size", "parse_duration", "parse_size"), "units"),
}

__all__ = [
    "ACTIVE_STATES",
    "TERMINAL_STATES",
    "Attempt",
    "AuditEntry",
    "BreakerSettings",
    "BreakerState",
    "BreakerStatus",
    "DaemonConfig",
    "Dependency",
    "ErrorType",
    "Limits",
    "Priority",
    "RateLimit",
    "RetentionConfig",
    "RetryPolicy",
    "Role",
    "Run",
    "RunState",
    "RunTree",
    "Schedule",
    "ServiceSpec",
    "SkipReason",
    "TaskFileError",
    "TaskSet",
    "TaskSpec",
    "Trigger",
    "format_duration",
    "format_size",
    "new_ulid",
    "parse_duration",
    "parse_size",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
