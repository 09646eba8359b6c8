"""Crash recovery: a SIGKILLed daemon loses neither a run nor its output."""

from __future__ import annotations

import time

import psutil

from taskflow.model import RunState
from taskflow.protocol import Exec, ListRuns, ReadLogs, ShowRun, TriggerTask


def _read_all(client, run_id: str, stream: str = "stdout") -> bytes:
    data, offset = b"", 0
    while True:
        chunk = client.call(ReadLogs(run_id=run_id, stream=stream, offset=offset))
        data += chunk.data
        if not chunk.data:
            return data
        offset = chunk.next_offset


def _wait_running(client, run_id: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = client.call(ShowRun(run_id=run_id))
        if tree.run.state is RunState.RUNNING and tree.attempts and tree.attempts[-1].pid:
            return tree
        time.sleep(0.05)
    raise AssertionError("run never started")


def test_task_running_across_a_daemon_crash_is_adopted_with_its_output(daemon, wait_terminal):
    daemon.write_tasks('[tasks.idle]\ncommand = "true"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(Exec(command=["sh", "-c", "echo start; sleep 3; echo done"]))
        tree = _wait_running(client, ref.id)
    pid = tree.attempts[-1].pid

    daemon.kill()
    assert psutil.pid_exists(pid), "the task must outlive the daemon"
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, ref.id, timeout=20)
        assert tree.run.state is RunState.SUCCEEDED, tree.run
        assert _read_all(client, ref.id) == b"start\ndone\n"


def test_task_finishing_while_the_daemon_is_down_is_read_back(daemon, wait_terminal):
    daemon.write_tasks('[tasks.quick]\ncommand = "sleep 1; echo finished; exit 4"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="quick"))
        _wait_running(client, ref.id)
    daemon.kill()
    time.sleep(2.0)  # the task ends while nobody watches
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, ref.id, timeout=20)
        assert tree.run.state is RunState.FAILED
        assert tree.run.exit_code == 4
        assert _read_all(client, ref.id) == b"finished\n"


def test_unrecoverable_run_becomes_interrupted_and_queued_runs_continue(daemon, wait_terminal):
    daemon.write_tasks(
        """
        [tasks.victim]
        command = "sleep 30"
        [tasks.later]
        command = "echo later"
        """
    )
    daemon.extra_args = ["--max-workers", "1"]
    daemon.start()
    with daemon.client() as client:
        victim = client.call(TriggerTask(task="victim"))
        tree = _wait_running(client, victim.id)
        later = client.call(TriggerTask(task="later"))
    daemon.kill()
    # The task dies too, by another hand, while the daemon is down: its wrapper is killed
    # with SIGKILL, so no exit status is recorded anywhere.
    psutil.Process(tree.attempts[-1].pid).kill()
    time.sleep(0.3)
    daemon.start()
    with daemon.client() as client:
        victim_tree = wait_terminal(client, victim.id)
        assert victim_tree.run.state is RunState.INTERRUPTED
        assert wait_terminal(client, later.id).run.state is RunState.SUCCEEDED
        active = [r for r in client.call(ListRuns(limit=100, roots_only=False)) if not r.state.terminal]
        assert active == []


def test_sigterm_detaches_by_default_and_the_next_start_adopts(daemon, wait_terminal):
    daemon.write_tasks('[tasks.long]\ncommand = "sleep 2; echo survived"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="long"))
        _wait_running(client, ref.id)
    assert daemon.stop() == 0
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, ref.id, timeout=20)
        assert tree.run.state is RunState.SUCCEEDED
        assert _read_all(client, ref.id) == b"survived\n"


def test_sigterm_with_on_stop_stop_ends_tasks_and_records_them(daemon, wait_terminal):
    config = daemon.workdir / "taskflow.toml"
    config.write_text('on_stop = "stop"\nstop_grace = "1s"\n')
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks('[tasks.long]\ncommand = "sleep 30"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="long"))
        pid = _wait_running(client, ref.id).attempts[-1].pid
    assert daemon.stop() == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, ref.id, timeout=5)
        assert tree.run.state in (RunState.CANCELLED, RunState.FAILED)
        assert tree.run.state is not RunState.INTERRUPTED


def test_attempt_past_its_deadline_while_the_daemon_was_down_is_timed_out_at_adoption(daemon, wait_terminal):
    daemon.write_tasks('[tasks.slow]\ncommand = "sleep 60"\ntimeout = "3s"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="slow"))
        tree = _wait_running(client, ref.id)
    pid = tree.attempts[-1].pid
    daemon.kill()
    time.sleep(4.0)  # the deadline passes while nobody watches
    assert psutil.pid_exists(pid)
    daemon.start()
    ready = time.monotonic()
    with daemon.client() as client:
        tree = wait_terminal(client, ref.id, timeout=20)
    late = time.monotonic() - ready
    assert tree.run.state is RunState.FAILED and tree.run.error_type == "timeout", tree.run
    assert late < 1.5, f"timed out {late:.1f}s after the restart, not at once"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
