"""Model Structs to SQLite rows and back, with the statements that write them.

Times are stored as REAL unix seconds (cheap to compare and index) and come back as
timezone-aware UTC datetimes; JSON-ish fields (params, results, audit args) are msgspec JSON
text so the file stays readable with the ``sqlite3`` shell. Row building sits on the hot path
of every run-state transition, so it builds plain tuples with as few calls as possible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from taskflow.model import (
    ACTIVE_STATES,
    Attempt,
    AuditEntry,
    BreakerState,
    BreakerStatus,
    ErrorType,
    Role,
    Run,
    RunState,
    SkipReason,
    Trigger,
)

_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode


def to_ts(value: datetime | None) -> float | None:
    """Unix seconds of an aware datetime; a naive one is taken as UTC (the model's zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """The aware UTC datetime of stored unix seconds."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def to_json(value: Any) -> str | None:
    """JSON text of a value; ``None`` stays NULL so empty results cost nothing."""
    return None if value is None else _encode_json(value).decode()


def from_json(value: str | bytes | None) -> Any:
    return None if value is None else _decode_json(value)


def _enum(kind: type, value: str | None) -> Any:
    return None if value is None else kind(value)


def sql_in(states: frozenset[RunState]) -> str:
    return "(" + ", ".join(f"'{state.value}'" for state in sorted(states)) + ")"


# SQL fragment for "is this run still in flight"; built from the model so new states follow.
ACTIVE_SQL = sql_in(ACTIVE_STATES)

# --- runs -----------------------------------------------------------------------------

RUN_COLUMNS = (
    "id", "task", "root_id", "parent_id", "state", "trigger", "priority", "params",
    "created_at", "started_at", "finished_at", "not_before", "error_type", "skip_reason",
    "message", "exit_code", "result", "attempts", "progress", "progress_message",
    "requested_by", "spec", "late_at", "marked_by", "marked_reason", "marked_from", "marked_at",
    "scheduled_at", "after_run",
)  # fmt: skip
# A run's identity and place in its tree never change; leaving them out of the update keeps
# SQLite from touching the task/root/created indexes on every state transition.
_RUN_IMMUTABLE = {"id", "task", "root_id", "parent_id", "created_at", "trigger", "requested_by",
                  "scheduled_at", "after_run"}
RUN_SELECT = ", ".join(RUN_COLUMNS)

UPSERT_RUN = (
    f"INSERT INTO runs ({RUN_SELECT}) VALUES ({', '.join('?' * len(RUN_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in RUN_COLUMNS if c not in _RUN_IMMUTABLE)
)


def run_row(run: Run) -> tuple[Any, ...]:
    """The ``runs`` row of a run, in ``RUN_COLUMNS`` order."""
    params = run.params
    result = run.result
    started = run.started_at
    finished = run.finished_at
    not_before = run.not_before
    return (
        run.id,
        run.task,
        run.root_id,
        run.parent_id,
        run.state,
        run.trigger,
        run.priority,
        _encode_json(params).decode() if params else None,
        to_ts(run.created_at),
        None if started is None else to_ts(started),
        None if finished is None else to_ts(finished),
        None if not_before is None else to_ts(not_before),
        run.error_type,
        run.skip_reason,
        run.message,
        run.exit_code,
        None if result is None else _encode_json(result).decode(),
        run.attempts,
        run.progress,
        run.progress_message,
        run.requested_by,
        run.spec,
        None if run.late_at is None else to_ts(run.late_at),
        run.marked_by,
        run.marked_reason,
        run.marked_from,
        None if run.marked_at is None else to_ts(run.marked_at),
        None if run.scheduled_at is None else to_ts(run.scheduled_at),
        run.after_run,
    )


def row_run(row: tuple[Any, ...]) -> Run:
    """The run of a ``runs`` row selected with ``RUN_SELECT``."""
    return Run(
        id=row[0],
        task=row[1],
        root_id=row[2],
        parent_id=row[3],
        state=RunState(row[4]),
        trigger=Trigger(row[5]),
        priority=row[6],
        params={} if row[7] is None else _decode_json(row[7]),
        created_at=datetime.fromtimestamp(row[8], UTC),
        started_at=from_ts(row[9]),
        finished_at=from_ts(row[10]),
        not_before=from_ts(row[11]),
        error_type=_enum(ErrorType, row[12]),
        skip_reason=_enum(SkipReason, row[13]),
        message=row[14],
        exit_code=row[15],
        result=from_json(row[16]),
        attempts=row[17],
        progress=row[18],
        progress_message=row[19],
        requested_by=row[20],
        spec=row[21],
        late_at=from_ts(row[22]),
        marked_by=row[23],
        marked_reason=row[24],
        marked_from=_enum(RunState, row[25]),
        marked_at=from_ts(row[26]),
        scheduled_at=from_ts(row[27]),
        after_run=row[28],
    )


# --- attempts -------------------------------------------------------------------------

ATTEMPT_COLUMNS = (
    "run_id", "number", "state", "pid", "pid_started_at", "started_at", "finished_at",
    "exit_code", "signal", "error_type", "message", "peak_rss", "cpu_seconds", "output_dir",
    "output_bytes", "output_cut", "result", "worker", "traceback",
)  # fmt: skip
ATTEMPT_SELECT = ", ".join(ATTEMPT_COLUMNS)
UPSERT_ATTEMPT = (
    f"INSERT INTO attempts ({ATTEMPT_SELECT}) VALUES ({', '.join('?' * len(ATTEMPT_COLUMNS))}) "
    "ON CONFLICT (run_id, number) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ATTEMPT_COLUMNS[2:])
)


class OutputDirs:
    """Attempt output folders as stored. The usual one, ``<root>/<run id>.<n>``, is stored as
    ``''`` (it is most of an attempt row's bytes, and the same for every attempt); any other
    path as it is, None as None. Packing and unpacking round-trip exactly whatever the root."""

    def __init__(self, root: str | None) -> None:
        self.root = root

    def pack(self, run_id: str, number: int, path: str | None) -> str | None:
        if path is not None and self.root is not None and path == f"{self.root}/{run_id}.{number}":
            return ""
        return path

    def unpack(self, run_id: str, number: int, stored: str | None) -> str | None:
        if stored == "" and self.root is not None:
            return f"{self.root}/{run_id}.{number}"
        return stored


def attempt_row(attempt: Attempt, dirs: OutputDirs) -> tuple[Any, ...]:
    return (
        attempt.run_id,
        attempt.number,
        attempt.state,
        attempt.pid,
        attempt.pid_started_at,
        to_ts(attempt.started_at),
        to_ts(attempt.finished_at),
        attempt.exit_code,
        attempt.signal,
        attempt.error_type,
        attempt.message,
        attempt.peak_rss,
        attempt.cpu_seconds,
        dirs.pack(attempt.run_id, attempt.number, attempt.output_dir),
        attempt.output_bytes,
        attempt.output_cut,
        to_json(attempt.result),
        attempt.worker,
        attempt.traceback,
    )


def row_attempt(row: tuple[Any, ...], dirs: OutputDirs) -> Attempt:
    return Attempt(
        run_id=row[0],
        number=row[1],
        state=RunState(row[2]),
        pid=row[3],
        pid_started_at=row[4],
        started_at=from_ts(row[5]),
        finished_at=from_ts(row[6]),
        exit_code=row[7],
        signal=row[8],
        error_type=_enum(ErrorType, row[9]),
        message=row[10],
        peak_rss=row[11],
        cpu_seconds=row[12],
        output_dir=dirs.unpack(row[0], row[1], row[13]),
        output_bytes=row[14],
        output_cut=row[15],
        result=from_json(row[16]),
        worker=row[17],
        traceback=row[18],
    )


# --- breakers, task state, schedules, audit, meta -------------------------------------

BREAKER_COLUMNS = (
    "service", "status", "consecutive_failures", "opened_at", "half_open_at", "probe_run_id",
    "tripped_by", "updated_at",
)  # fmt: skip
BREAKER_SELECT = ", ".join(BREAKER_COLUMNS)
UPSERT_BREAKER = (
    f"INSERT INTO breakers ({BREAKER_SELECT}) VALUES ({', '.join('?' * len(BREAKER_COLUMNS))}) "
    "ON CONFLICT (service) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in BREAKER_COLUMNS[1:])
)


def breaker_row(state: BreakerState) -> tuple[Any, ...]:
    return (
        state.service,
        state.status,
        state.consecutive_failures,
        to_ts(state.opened_at),
        to_ts(state.half_open_at),
        state.probe_run_id,
        state.tripped_by,
        to_ts(state.updated_at),
    )


def row_breaker(row: tuple[Any, ...]) -> BreakerState:
    return BreakerState(
        service=row[0],
        status=BreakerStatus(row[1]),
        consecutive_failures=row[2],
        opened_at=from_ts(row[3]),
        half_open_at=from_ts(row[4]),
        probe_run_id=row[5],
        tripped_by=row[6],
        updated_at=from_ts(row[7]),
    )


UPSERT_TASK_STATE = (
    "INSERT INTO task_state (task, enabled, reason, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (task) DO UPDATE SET enabled = excluded.enabled, reason = excluded.reason, "
    "updated_at = excluded.updated_at, updated_by = excluded.updated_by"
)
UPSERT_SCHEDULE = (
    "INSERT INTO schedules (task, last_fire, next_fire) VALUES (?, ?, ?) "
    "ON CONFLICT (task) DO UPDATE SET last_fire = excluded.last_fire, next_fire = excluded.next_fire"
)
UPSERT_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

AUDIT_COLUMNS = ("id", "at", "user", "role", "action", "args", "outcome")
AUDIT_SELECT = ", ".join(AUDIT_COLUMNS)
INSERT_AUDIT = f"INSERT INTO audit ({AUDIT_SELECT}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def audit_row(entry: AuditEntry, audit_id: int) -> tuple[Any, ...]:
    return (
        audit_id,
        to_ts(entry.at),
        entry.user,
        entry.role,
        entry.action,
        _encode_json(entry.args).decode(),
        entry.outcome,
    )


def row_audit(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        at=datetime.fromtimestamp(row[1], UTC),
        user=row[2],
        role=Role(row[3]),
        action=row[4],
        args=_decode_json(row[5]),
        outcome=row[6],
    )
