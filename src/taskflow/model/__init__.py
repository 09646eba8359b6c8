"""The domain model: task specs, runs, attempts, breakers, audit entries, configuration.

Pure data (msgspec Structs) with no I/O; every other layer speaks in these types.
"""

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
