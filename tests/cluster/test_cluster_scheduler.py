"""A scheduler that goes away is a problem in ``status`` and ``health``; work resumes when it
returns; ``status`` shows the cluster's workers and what runs on them."""

from __future__ import annotations

import json
import subprocess
import sys

from dask_cluster import wait_for

from taskflow.model import RunState
from taskflow.protocol import Health, ShowRun, Status, TriggerTask


def _cli(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, *args],
                          capture_output=True, text=True, timeout=30)


def test_status_shows_the_cluster_and_its_busy_workers(daemon, tmp_path):
    daemon.write_tasks('[tasks.nap]\nwhere = { workers = ["w2"] }\ncommand = "sleep 3"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="nap"))
        wait_for(lambda: client.call(ShowRun(run_id=ref.id)).attempts[-1].worker, what="placed")
        cluster = wait_for(lambda: (c := client.call(Status()).cluster) and c.workers and c, what="cluster seen")
    assert cluster.connected and cluster.problem is None
    by_name = {w.name: w for w in cluster.workers}
    assert set(by_name) == {"w1", "w2"} and by_name["w2"].busy == 1 and by_name["w1"].busy == 0
    assert by_name["w2"].resources == {"cpu": 4.0}
    shown = json.loads(_cli(daemon, "--json", "status").stdout)
    assert shown["cluster"]["scheduler"].startswith("tcp://127.0.0.1:")
    text = _cli(daemon, "status").stdout
    assert "cluster" in text and "w2" in text


def test_a_scheduler_that_goes_away_is_a_problem_and_work_resumes_when_it_returns(daemon, cluster, wait_terminal):
    daemon.write_tasks('[tasks.echo]\nwhere = {}\ncommand = "echo back"\n')
    daemon.start()
    cluster.kill("scheduler")
    with daemon.client() as client:
        wait_for(lambda: not client.call(Health()).ok, timeout=20, what="health reports the lost scheduler")
        problems = client.call(Health()).problems
        assert any("scheduler" in p for p in problems), problems
        assert _cli(daemon, "health").returncode == 1
        ref = client.call(TriggerTask(task="echo"))  # accepted and held while the cluster is away
        cluster.start_scheduler()
        for name in {"w1", "w2"} - cluster.workers():
            cluster.start_worker(name, resources="cpu=4" if name == "w2" else None)
        tree = wait_terminal(client, ref.id, timeout=40)
        assert tree.run.state is RunState.SUCCEEDED, tree.run
        wait_for(lambda: client.call(Health()).ok, timeout=10, what="healthy again")


def _metrics(port: int) -> str:
    import urllib.request

    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def _metrics_once(port: int, *lines: str, timeout: float = 20.0, what: str) -> str:
    """The metrics page, once it has all of ``lines``."""
    pages: list[str] = []

    def seen() -> bool:
        pages.append(_metrics(port))
        return all(line in pages[-1] for line in lines)

    wait_for(seen, timeout, what)
    return pages[-1]


def test_metrics_show_a_scheduler_that_goes_away_and_comes_back(daemon, cluster):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n" + config.read_text())
    daemon.write_tasks('[tasks.echo]\nwhere = {}\ncommand = "echo hi"\n')
    daemon.start()
    up = f'taskflow_cluster_up{{scheduler="{cluster.address}"}}'
    body = _metrics_once(port, f"{up} 1.0", "taskflow_cluster_workers 2.0", what="the cluster up with 2 workers")
    assert 'taskflow_cluster_busy{worker="w1"} 0.0' in body
    cluster.kill("scheduler")
    body = _metrics_once(port, f"{up} 0.0", what="the lost scheduler in the metrics")
    assert "taskflow_cluster_workers 0.0" in body
    cluster.start_scheduler()
    _metrics_once(port, f"{up} 1.0", timeout=30, what="the scheduler back in the metrics")
