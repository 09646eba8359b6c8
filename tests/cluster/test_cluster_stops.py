"""Cancel and timeout kill the remote process group within 2 s; a killed worker's attempt is
``lost`` and the retry policy runs it again elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
from dask_cluster import wait_for

from taskflow.model import ErrorType, RunState
from taskflow.protocol import Cancel, ShowRun, TriggerTask


def _pid_of(path: Path) -> int:
    wait_for(lambda: path.exists() and path.read_text().strip(), what=f"{path} written")
    return int(path.read_text())


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_cancel_kills_the_remote_process_group_within_two_seconds(daemon, wait_terminal, tmp_path):
    # The child ignores TERM: only the KILL after stop_grace (1 s) ends it, group-wide.
    daemon.write_tasks(f'''
        [tasks.stubborn]
        where = {{ workers = ["w2"] }}
        command = "sh -c 'trap \\"\\" TERM; echo $$ > {tmp_path}/child; exec sleep 60' & wait"
    ''')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="stubborn"))
        child = _pid_of(tmp_path / "child")
        wait_for(lambda: client.call(ShowRun(run_id=ref.id)).attempts[-1].worker == "w2", what="placed")
        began = time.monotonic()
        client.call(Cancel(run_id=ref.id))
        wait_for(lambda: _gone(child), timeout=5, what="the remote child killed")
        assert time.monotonic() - began < 2.0
        tree = wait_terminal(client, ref.id)
        assert tree.run.state is RunState.CANCELLED, tree.run
        assert tree.attempts[-1].state is RunState.CANCELLED


def test_timeout_is_enforced_on_the_worker(daemon, wait_terminal, tmp_path):
    daemon.write_tasks(f'''
        [tasks.slow]
        where = {{}}
        timeout = "1s"
        command = "echo $$ > {tmp_path}/pid; sleep 30"
    ''')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="slow"))
        pid = _pid_of(tmp_path / "pid")
        tree = wait_terminal(client, ref.id, timeout=10)
        assert tree.run.state is RunState.FAILED and tree.run.error_type is ErrorType.TIMEOUT, tree.run
        assert "timed out after 1" in (tree.attempts[-1].message or "")
        wait_for(lambda: _gone(pid), timeout=3, what="the timed-out task killed")


def test_a_worker_killed_mid_attempt_makes_it_lost_and_the_retry_runs_elsewhere(daemon, cluster, wait_terminal,
                                                                                  tmp_path):
    daemon.write_tasks(f'''
        [tasks.survivor]
        where = {{}}
        retries = {{ max = 1, backoff = "0s", on = ["lost"] }}
        command = "echo $TASKFLOW_ATTEMPT >> {tmp_path}/attempts; [ $TASKFLOW_ATTEMPT = 2 ] || sleep 30"
    ''')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="survivor"))
        first = wait_for(lambda: client.call(ShowRun(run_id=ref.id)).attempts[-1].worker, what="placed")
        wait_for(lambda: (tmp_path / "attempts").exists(), what="attempt 1 began")
        cluster.kill(str(first))
        tree = wait_terminal(client, ref.id, timeout=30)
        assert tree.run.state is RunState.SUCCEEDED, tree.run
        one, two = tree.attempts
        assert one.state is RunState.FAILED and one.error_type is ErrorType.LOST, one
        assert one.worker == first and two.worker not in (None, first)
        assert (tmp_path / "attempts").read_text() == "1\n2\n"
