"""``taskflow demo`` as ``make demo`` runs it (events instead of the TUI): a real daemon on the
repository's examples/, showing what the operator features look like — a notification sent
to the demo's own sink, a late run, a paused pool holding a run, and a backfill — and
``examples/repair.sh`` (plan, mark, backfill) run against it as an operator would."""

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

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DEMO_WAIT = 40.0  # the demo's batch goes late after 5 s; a loaded machine may take longer


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKFLOW_")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    env["TMPDIR"] = str(tmp_path)
    return env


def start_demo(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``taskflow demo --no-tui`` and its socket (named on its first line)."""
    demo = subprocess.Popen([sys.executable, "-m", "taskflow.cli.main", "demo", "--no-tui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True,
                            start_new_session=True)
    assert demo.stderr is not None
    first = demo.stderr.readline()
    found = re.search(r" on (\S+\.sock)", first)
    if not found:
        os.killpg(demo.pid, signal.SIGKILL)
        raise AssertionError(first)
    return demo, found.group(1)


def test_demo_shows_notifications_a_late_run_a_paused_pool_and_a_backfill(tmp_path: Path) -> None:
    demo, socket = start_demo(demo_env(tmp_path))
    try:
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


def test_repair_example_plans_marks_and_backfills_against_the_demo(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    demo, socket = start_demo(env)
    env["TASKFLOW_SOCKET"] = socket
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    try:
        script = subprocess.run(["sh", str(EXAMPLES / "repair.sh")], env=env, capture_output=True,
                                text=True, timeout=120)
        assert script.returncode == 0, script.stdout + script.stderr
        deadline = time.monotonic() + DEMO_WAIT
        while True:  # the mark released reload; it may still be running
            with Client.connect(socket, timeout=5) as client:
                runs = client.call(ListRuns(task="rotate-certs", limit=200, roots_only=False))
            if all(run.state.terminal for run in runs) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.communicate(timeout=30)
    assert "Traceback" not in script.stderr
    assert "rotate-certs/upload" in script.stdout and "wave" in script.stdout  # the plans
    upload = [run for run in runs if run.task == "rotate-certs/upload"]
    reload = [run for run in runs if run.task == "rotate-certs/reload"]
    assert [(r.state, r.marked_from, r.marked_reason) for r in upload] == [
        (RunState.SUCCEEDED, RunState.FAILED, "uploaded by hand: HSM offline")]
    assert [r.state for r in reload] == [RunState.SUCCEEDED]  # released by the mark
    exported = sorted(p.name for p in (tmp_path / "taskflow-demo" / "exports").iterdir())
    assert len(exported) >= 3, exported  # one file per backfilled day
    assert "marked succeeded by" in script.stdout
