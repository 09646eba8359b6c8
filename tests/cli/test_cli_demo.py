"""``taskflow demo`` as ``make demo`` runs it (events instead of the TUI): a real daemon on the
repository's examples/, showing what the operator features look like — a notification sent
to the demo's own sink, a late run, a paused pool holding a run, and a backfill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from taskflow.client import Client
from taskflow.model import RunState
from taskflow.protocol import ListRuns, Status

DEMO_WAIT = 40.0  # the demo's batch goes late after 5 s; a loaded machine may take longer


def test_demo_shows_notifications_a_late_run_a_paused_pool_and_a_backfill(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKFLOW_")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    demo = subprocess.Popen([sys.executable, "-m", "taskflow.cli.main", "demo", "--no-tui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
                            start_new_session=True)
    try:
        assert demo.stderr is not None
        first = demo.stderr.readline()
        found = re.search(r" on (\S+\.sock)", first)
        assert found, first
        socket = found.group(1)
        deadline = time.monotonic() + DEMO_WAIT
        late = held = backfilled = None
        while time.monotonic() < deadline and not (late and held and backfilled):
            with Client.connect(socket, timeout=5) as client:
                status = client.call(Status())
                runs = client.call(ListRuns(limit=200))
            late = [run for run in runs if run.late_at is not None and run.task == "batch"]
            held = [run for run in runs if run.task == "reindex" and run.state is RunState.QUEUED]
            backfilled = [run for run in runs if run.scheduled_at is not None and run.trigger.value == "backfill"]
            time.sleep(0.5)
        assert late, "the demo's batch run was never marked late"
        assert held and status.paused is not None and "frozen" in status.paused.zero_pools
        assert backfilled, "the demo started no backfill"
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        _, err = demo.communicate(timeout=30)
    # What the demo's notifier was told is summed up as it ends: at least the late notice.
    assert "notifications were sent" in err and "late: batch" in err, err
    assert "Traceback" not in err
