"""Fixed, realistic data for TUI snapshots: a small fleet of tasks, runs, breakers and audit.

Plain model Structs with frozen times and ids: the same frame on every machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskflow.model import (
    Attempt,
    AuditEntry,
    BreakerState,
    BreakerStatus,
    ErrorType,
    Role,
    Run,
    RunState,
    RunTree,
    TaskSpec,
    Trigger,
)
from taskflow.protocol import PauseInfo, StatusInfo, TaskInfo, Welcome
from taskflow.tui.state import Snapshot

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def run_id(n: int) -> str:
    return f"01JNRUN{n:019d}"


def sample_tasks() -> list[TaskInfo]:
    return [
        TaskInfo(name="hello", kind="command", description="Say hello", last_state=RunState.SUCCEEDED,
                 last_run_id=run_id(1), last_finished_at=ago(300)),
        TaskInfo(name="nightly", kind="group", description="Nightly maintenance", schedule="0 3 * * *",
                 next_run=NOW.replace(hour=3) + timedelta(days=1), last_state=RunState.FAILED,
                 last_run_id=run_id(10), children=["nightly/backup", "nightly/verify", "nightly/rollback"]),
        TaskInfo(name="nightly/backup", kind="command", last_state=RunState.SUCCEEDED, service="postgres"),
        TaskInfo(name="nightly/verify", kind="command", last_state=RunState.FAILED, depends_on=["backup"]),
        TaskInfo(name="nightly/rollback", kind="command", last_state=RunState.SKIPPED),
        TaskInfo(name="deploy", kind="python", description="Ship it", service="payments-api",
                 last_state=RunState.RUNNING, last_run_id=run_id(20)),
        TaskInfo(name="greet", kind="python", enabled=False, disabled_reason="function pytasks:greet not registered",
                 orphaned=True),
        TaskInfo(name="report", kind="command", schedule="every 10m", next_run=NOW + timedelta(minutes=4),
                 enabled=False, disabled_reason="paused for the migration"),
        TaskInfo(name="echo-markup", kind="command", description="[bold]not markup[/bold]"),
    ]


def sample_runs() -> list[RunTree]:
    nightly = run_id(10)
    deploy = run_id(20)
    return [
        RunTree(run=Run(id=run_id(1), task="hello", root_id=run_id(1), state=RunState.SUCCEEDED,
                        created_at=ago(302), started_at=ago(301), finished_at=ago(300), attempts=1, exit_code=0),
                attempts=[Attempt(run_id=run_id(1), number=1, state=RunState.SUCCEEDED, exit_code=0, pid=4242,
                                  started_at=ago(301), finished_at=ago(300), peak_rss=3_500_000, cpu_seconds=0.02)]),
        RunTree(
            run=Run(id=nightly, task="nightly", root_id=nightly, state=RunState.FAILED, trigger=Trigger.SCHEDULE,
                    created_at=ago(3600), started_at=ago(3600), finished_at=ago(3000)),
            children=[
                RunTree(run=Run(id=run_id(11), task="nightly/backup", root_id=nightly, parent_id=nightly,
                                state=RunState.SUCCEEDED, created_at=ago(3600), started_at=ago(3600),
                                finished_at=ago(3100), attempts=1, exit_code=0)),
                RunTree(run=Run(id=run_id(12), task="nightly/verify", root_id=nightly, parent_id=nightly,
                                state=RunState.FAILED, error_type=ErrorType.EXIT, created_at=ago(3600),
                                started_at=ago(3100), finished_at=ago(3000), attempts=3, exit_code=2),
                        attempts=[Attempt(run_id=run_id(12), number=n, state=RunState.FAILED, exit_code=2,
                                          error_type=ErrorType.EXIT, started_at=ago(3100 - n * 20),
                                          finished_at=ago(3090 - n * 20), peak_rss=48_000_000, cpu_seconds=1.5)
                                  for n in (1, 2, 3)]),
                RunTree(run=Run(id=run_id(13), task="nightly/rollback", root_id=nightly, parent_id=nightly,
                                state=RunState.SKIPPED, created_at=ago(3600))),
            ],
        ),
        RunTree(run=Run(id=deploy, task="deploy", root_id=deploy, state=RunState.RUNNING, created_at=ago(95),
                        started_at=ago(90), attempts=1, progress=0.42, progress_message="uploading",
                        requested_by="alice", params={"env": "staging"}),
                attempts=[Attempt(run_id=deploy, number=1, state=RunState.RUNNING, pid=5151, started_at=ago(90),
                                  peak_rss=120_000_000, cpu_seconds=12.0)]),
        RunTree(run=Run(id=run_id(30), task="report", root_id=run_id(30), state=RunState.INTERRUPTED,
                        created_at=ago(7200), started_at=ago(7200), finished_at=ago(7100), attempts=1)),
    ]


def sample_breakers() -> list[BreakerState]:
    return [
        BreakerState(service="payments-api", status=BreakerStatus.OPEN, consecutive_failures=5,
                     opened_at=ago(20), half_open_at=NOW + timedelta(seconds=40)),
        BreakerState(service="postgres", status=BreakerStatus.CLOSED),
        BreakerState(service="search", status=BreakerStatus.HALF_OPEN, consecutive_failures=3, opened_at=ago(60),
                     half_open_at=ago(1), probe_run_id=run_id(40)),
    ]


def sample_audit() -> list[AuditEntry]:
    return [
        AuditEntry(id=1, at=ago(600), user="alice", role=Role.OPERATOR, action="run", args={"task": "deploy"}),
        AuditEntry(id=2, at=ago(500), user="bob", role=Role.ADMIN, action="disable",
                   args={"name": "report", "reason": "paused for the migration"}),
        AuditEntry(id=3, at=ago(60), user="carol", role=Role.VIEWER, action="cancel", args={"run_id": run_id(20)},
                   outcome="your role (viewer) may not cancel runs"),
    ]


def sample_snapshot(role: Role = Role.OPERATOR) -> Snapshot:
    return Snapshot(
        welcome=Welcome(protocol=1, version="0.1.0", user="alice", role=role),
        status=StatusInfo(version="0.1.0", pid=100, started_at=ago(4000), uptime=4000.0, workers_busy=1,
                          workers_max=8, queued=2, counts={"running": 1, "queued": 2}),
        tasks=sample_tasks(),
        runs=sample_runs(),
        breakers=sample_breakers(),
        audit=sample_audit(),
        specs={"hello": TaskSpec(name="hello", kind="command", command="echo hello", timeout=30.0),
               # Params (one a string with markup, one not a string) for the trigger dialog.
               "echo-markup": TaskSpec(name="echo-markup", kind="command", command="echo {greeting}",
                                       params={"greeting": "[bold]hi[/bold]", "times": 2})},
        logs={
            run_id(1): [("stdout", "hello"), ("stdout", "[bold]this is not markup[/bold]"),
                        ("stderr", "warning: something on stderr")],
            run_id(20): [("stdout", f"uploading chunk {i}/12") for i in range(1, 6)] + [("stderr", "retrying chunk 5")],
        },
    )


def held_snapshot() -> Snapshot:
    """The sample with what waits on an operator or the clock: pool ``db`` paused (``etl``'s
    queued run is held), a run started with ``run --in 2h30m`` and a run past its ``expect``."""
    snapshot = sample_snapshot()
    snapshot.status.paused = PauseInfo(pools=["db"])
    snapshot.tasks.append(TaskInfo(name="etl", kind="command", pool="db", paused=True, last_state=RunState.SUCCEEDED))
    snapshot.runs[:0] = [
        RunTree(run=Run(id=run_id(50), task="etl", root_id=run_id(50), state=RunState.QUEUED, created_at=ago(40))),
        RunTree(run=Run(id=run_id(51), task="hello", root_id=run_id(51), state=RunState.PENDING, created_at=ago(10),
                        not_before=NOW + timedelta(hours=2, minutes=30), requested_by="alice")),
        RunTree(run=Run(id=run_id(52), task="nightly/backup", root_id=run_id(52), state=RunState.RUNNING,
                        created_at=ago(1300), started_at=ago(1290), attempts=1, late_at=ago(690)),
                attempts=[Attempt(run_id=run_id(52), number=1, state=RunState.RUNNING, pid=6161,
                                  started_at=ago(1290))]),
    ]
    return snapshot
