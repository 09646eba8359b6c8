"""Snapshot tests of the dask executor in the TUI: the worker of each attempt in the run
detail, the cluster in the status bar (up, and lost with the scheduler away), and the
Cluster screen (scheduler, state, workers with their resources and busy count).

The sample data with a cluster added; time, host load and ids fixed as in every snapshot.
Update after an intended change with ``pytest tests/tui/test_tui_cluster_snapshots.py
--snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from tui_sample import run_id, sample_snapshot

from taskflow.model import Attempt, ErrorType, RunState
from taskflow.protocol.daemon_views import ClusterInfo, ClusterWorker
from taskflow.tui import TaskflowApp
from taskflow.tui.state import Snapshot

SIZE = (120, 36)
SMALL = (80, 24)
AppFactory = Callable[..., TaskflowApp]


def cluster_snapshot(*, connected: bool = True) -> Snapshot:
    """The sample, its daemon on a 2-worker cluster: deploy's first attempt was lost with
    its worker, the second runs on the other one."""
    snapshot = sample_snapshot()
    workers = [
        ClusterWorker(address="tcp://10.0.0.11:40111", name="db-1", threads=2, resources={"cpu": 4.0}, busy=1),
        ClusterWorker(address="tcp://10.0.0.12:40222", name="gpu-1", threads=4,
                      resources={"cpu": 8.0, "gpu": 1.0}, busy=2),
    ]
    assert snapshot.status is not None
    snapshot.status.cluster = ClusterInfo(
        scheduler="tcp://10.0.0.10:8786", connected=connected, workers=workers if connected else [],
        remote_running=3,
        problem=None if connected else "the Dask scheduler is unreachable (client connecting)",
    )
    deploy = snapshot.runs[2]
    running = deploy.attempts[0]
    deploy.attempts = [
        Attempt(run_id=run_id(20), number=1, state=RunState.FAILED, error_type=ErrorType.LOST,
                started_at=running.started_at, finished_at=running.started_at, worker="db-1",
                message="lost: the worker running it went away"),
        Attempt(run_id=run_id(20), number=2, state=RunState.RUNNING, pid=5151, started_at=running.started_at,
                peak_rss=running.peak_rss, cpu_seconds=running.cpu_seconds, worker="gpu-1"),
    ]
    deploy.run.attempts = 2
    return snapshot


async def settle(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def on_deploy_run(pilot: Pilot) -> None:
    """The run tree focused, deploy's run selected (its attempts load after a debounce)."""
    await settle(pilot)
    for key in ("tab", "down"):
        await pilot.press(key)
        await settle(pilot)
    await pilot.pause(0.3)
    await settle(pilot)


async def cluster_screen(pilot: Pilot) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, TaskflowApp)
    app.show_cluster()
    await settle(pilot)


def test_run_detail_names_each_attempts_worker(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(snapshot=cluster_snapshot()), terminal_size=SIZE, run_before=on_deploy_run)


def test_run_detail_names_each_attempts_worker_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(snapshot=cluster_snapshot()), terminal_size=SMALL, run_before=on_deploy_run)


def test_cluster_screen(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(snapshot=cluster_snapshot()), terminal_size=SIZE, run_before=cluster_screen)


def test_cluster_screen_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(snapshot=cluster_snapshot()), terminal_size=SMALL, run_before=cluster_screen)


def test_cluster_lost_80x24(snap_compare, offline_app: AppFactory) -> None:
    # The scheduler is away: the status bar says so in red, the screen says why.
    assert snap_compare(offline_app(snapshot=cluster_snapshot(connected=False)), terminal_size=SMALL,
                        run_before=cluster_screen)
