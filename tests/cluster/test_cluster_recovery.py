"""A daemon SIGKILLed while attempts run on workers: on restart it re-attaches to those still
running (with their output), reads back those that ended meanwhile, starts nothing twice."""

from __future__ import annotations

import time

from dask_cluster import wait_for

from taskflow.model import RunState
from taskflow.protocol import ReadLogs, ShowRun, TriggerTask


def _logs(client, run_id: str) -> bytes:
    data, offset = b"", 0
    while True:
        chunk = client.call(ReadLogs(run_id=run_id, stream="stdout", offset=offset))
        if not chunk.data:
            return data
        data += chunk.data
        offset = chunk.next_offset


def test_daemon_killed_while_attempts_run_on_workers_reattaches_and_reads_back(daemon, wait_terminal, tmp_path):
    daemon.write_tasks(f'''
        [tasks.long]
        where = {{ workers = ["w1"] }}
        command = "echo $TASKFLOW_ATTEMPT >> {tmp_path}/long; echo begin; sleep 6; echo end"
        [tasks.short]
        where = {{ workers = ["w2"] }}
        command = "echo $TASKFLOW_ATTEMPT >> {tmp_path}/short; sleep 1; echo quick; exit 5"
    ''')
    daemon.start()
    with daemon.client() as client:
        long = client.call(TriggerTask(task="long"))
        short = client.call(TriggerTask(task="short"))
        for ref in (long, short):
            wait_for(lambda ref=ref: client.call(ShowRun(run_id=ref.id)).attempts[-1].worker, what="placed")
        wait_for(lambda: b"begin" in _logs(client, long.id), what="live output of the running attempt")

    daemon.kill()
    time.sleep(1.5)  # `short` ends while no daemon watches
    daemon.start()
    with daemon.client() as client:
        assert client.call(ShowRun(run_id=long.id)).run.state is RunState.RUNNING  # re-attached, not lost
        ended = wait_terminal(client, short.id, timeout=20)
        assert ended.run.state is RunState.FAILED and ended.run.exit_code == 5, ended.run
        assert _logs(client, short.id) == b"quick\n"
        tree = wait_terminal(client, long.id, timeout=20)
        assert tree.run.state is RunState.SUCCEEDED, tree.run
        assert tree.attempts[-1].worker == "w1" and len(tree.attempts) == 1
        assert _logs(client, long.id) == b"begin\nend\n"
    assert (tmp_path / "long").read_text() == "1\n" and (tmp_path / "short").read_text() == "1\n"
