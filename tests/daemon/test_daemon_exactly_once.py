"""A start is exactly-once across crashes (issue 9 items 5 and 10).

The daemon spawns an attempt and records it in the next group commit. These tests widen that
window with ``commit_window`` and SIGKILL the daemon inside it — after the task has started
(its ledger line is there) while the database still says ``pending`` — so the crash lands in
the window every time. Recovery must find the start from its traces and adopt it, read it
back, or call it interrupted; never run it a second time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import psutil
from daemon_process import DaemonProcess

from taskflow.client import ClientError
from taskflow.model import RunState
from taskflow.protocol import Cancel, ShowRun, TriggerTask


def _db_states(daemon: DaemonProcess) -> dict[str, str]:
    db = sqlite3.connect(f"file:{daemon.state_dir / 'taskflow.db'}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT id, state FROM runs").fetchall())
    finally:
        db.close()


def _kill_inside_the_window(daemon: DaemonProcess, task: str, ledger: Path) -> str:
    """Trigger ``task``, wait until it has started, SIGKILL the daemon before the start is
    committed, and bring the daemon back with an ordinary commit window."""
    config = daemon.workdir / "taskflow.toml"
    config.write_text('commit_window = "3s"\n')
    daemon.extra_args = ["--config", str(config)]
    daemon.start()
    # The reply waits for the audit entry, which shares the start's commit: send it aside.
    sender = threading.Thread(target=_trigger_ignoring_the_crash, args=(daemon, task), daemon=True)
    sender.start()
    deadline = time.monotonic() + 10
    while not (ledger.exists() and ledger.read_text()):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.01)
    states = _db_states(daemon)
    assert len(states) == 1 and next(iter(states.values())) in ("pending", "queued"), (
        f"the kill must land after the run is committed and before its start is: {states}"
    )
    daemon.kill()
    sender.join(10)
    return next(iter(states))


def _trigger_ignoring_the_crash(daemon: DaemonProcess, task: str) -> None:
    try:
        with daemon.client() as client:
            client.call(TriggerTask(task=task))
    except (ClientError, OSError):
        pass  # the daemon is killed before it answers


def _restart(daemon: DaemonProcess) -> None:
    (daemon.workdir / "taskflow.toml").write_text("")
    daemon.start()


def test_start_still_running_at_the_crash_is_adopted_not_run_again(daemon, wait_terminal):
    ledger = daemon.workdir / "ledger"
    daemon.write_tasks(f'[tasks.deploy]\ncommand = "echo $$ >>{ledger}; sleep 2; echo deployed"\n')
    run_id = _kill_inside_the_window(daemon, "deploy", ledger)
    _restart(daemon)
    with daemon.client() as client:
        tree = wait_terminal(client, run_id, timeout=20)
    assert tree.run.state is RunState.SUCCEEDED, tree.run
    assert len(ledger.read_text().splitlines()) == 1, "the task ran twice"
    assert [a.number for a in tree.attempts] == [1] and tree.attempts[0].pid
    assert (Path(tree.attempts[0].output_dir) / "stdout").read_text() == "deployed\n"


def test_start_that_finished_while_the_daemon_was_down_is_read_back(daemon, wait_terminal):
    ledger = daemon.workdir / "ledger"
    daemon.write_tasks(f'[tasks.migrate]\ncommand = "echo once >>{ledger}; echo migrated; exit 3"\n')
    run_id = _kill_inside_the_window(daemon, "migrate", ledger)
    time.sleep(0.5)  # it ends while nobody watches
    _restart(daemon)
    with daemon.client() as client:
        tree = wait_terminal(client, run_id, timeout=20)
    assert ledger.read_text() == "once\n", "the task ran twice"
    assert tree.run.state is RunState.FAILED and tree.run.exit_code == 3, tree.run
    assert len(tree.attempts) == 1 and tree.attempts[0].exit_code == 3
    assert (Path(tree.attempts[0].output_dir) / "stdout").read_text() == "migrated\n"


def test_start_killed_without_a_status_is_interrupted_not_run_again(daemon, wait_terminal):
    ledger = daemon.workdir / "ledger"
    daemon.write_tasks(f'[tasks.victim]\ncommand = "echo $$ >>{ledger}; sleep 30"\n')
    run_id = _kill_inside_the_window(daemon, "victim", ledger)
    pid = int(ledger.read_text())  # $$ of the command: the wrapper, which leads the group
    os.killpg(pid, signal.SIGKILL)  # by another hand: no exit status is recorded
    time.sleep(0.3)
    _restart(daemon)
    with daemon.client() as client:
        tree = wait_terminal(client, run_id, timeout=20)
        time.sleep(0.5)
        assert client.call(ShowRun(run_id=run_id)).run.state is RunState.INTERRUPTED
    assert tree.run.state is RunState.INTERRUPTED, tree.run
    assert len(ledger.read_text().splitlines()) == 1, "the task ran twice"


def test_unrecorded_start_past_its_deadline_is_timed_out_at_once(daemon, wait_terminal):
    """Item 10: the deadline counts from the attempt's own start, not the restart."""
    ledger = daemon.workdir / "ledger"
    daemon.write_tasks(f'[tasks.slow]\ncommand = "echo $$ >>{ledger}; sleep 60"\ntimeout = "2s"\n')
    run_id = _kill_inside_the_window(daemon, "slow", ledger)
    pid = int(ledger.read_text())  # $$ of the command: the wrapper, which leads the group
    time.sleep(3.0)  # past the deadline while the daemon is down
    _restart(daemon)
    ready = time.monotonic()
    with daemon.client() as client:
        tree = wait_terminal(client, run_id, timeout=20)
    late = time.monotonic() - ready
    assert tree.run.state is RunState.FAILED and tree.run.error_type == "timeout", tree.run
    assert late < 1.5, f"timed out {late:.1f}s after the restart, not at once"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert len(ledger.read_text().splitlines()) == 1, "the task ran twice"


def test_attempt_folder_alone_is_never_started_again(daemon, wait_terminal):
    """The folder is made just before the spawn. On a full disk the wrapper can run its task
    without managing to write a pid or a status, so a bare folder may be a start that
    happened: it is interrupted (visible, rerunnable), never run a second time."""
    ledger = daemon.workdir / "ledger"
    daemon.write_tasks(
        f"""
        [tasks.blocker]
        command = "sleep 30"
        [tasks.next]
        command = "echo ran >>{ledger}"
        """
    )
    daemon.extra_args = ["--max-workers", "1"]
    daemon.start()
    with daemon.client() as client:
        blocker = client.call(TriggerTask(task="blocker")).id
        run_id = client.call(TriggerTask(task="next")).id
    daemon.kill()
    (daemon.state_dir / "output" / f"{run_id}.1").mkdir()
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, run_id, timeout=20)
        client.call(Cancel(run_id=blocker))
    assert tree.run.state is RunState.INTERRUPTED, tree.run
    assert not ledger.exists()
