"""A real Dask cluster on 127.0.0.1 (``dask scheduler`` + 2 ``dask worker`` processes, named
``w1`` and ``w2``, ``w2`` with ``cpu = 4``) for the whole module, and a real ``taskflowd``
per test configured with ``[executor] kind = "dask"`` pointing at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from dask_cluster import Cluster, wait_for

from taskflow.client import Client
from taskflow.model import RunTree

pytest.importorskip("distributed")



@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture
def daemon(tmp_path: Path, cluster: Cluster) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path)
    config = tmp_path / "taskflow.toml"
    config.write_text(f'stop_grace = "1s"\n[executor]\nkind = "dask"\naddress = "{cluster.address}"\n'
                      'poll_interval = "0.2s"\nconnect_timeout = "2s"\n')
    proc.extra_args = ["--config", str(config)]
    try:
        yield proc
    finally:
        proc.cleanup()
        if "scheduler" not in cluster.procs:  # a test stopped it: bring it back for the next
            cluster.start_scheduler()
        if cluster.workers() < {"w1", "w2"}:  # a test killed one: bring it back for the next
            for name in {"w1", "w2"} - cluster.workers():
                cluster.start_worker(name, resources="cpu=4" if name == "w2" else None)
            cluster.wait_workers({"w1", "w2"})


@pytest.fixture
def wait_terminal() -> Callable[..., RunTree]:
    def wait(client: Client, run_id: str, timeout: float = 30.0) -> RunTree:
        from taskflow.protocol import ShowRun

        tree: RunTree | None = None

        def terminal() -> bool:
            nonlocal tree
            tree = client.call(ShowRun(run_id=run_id))
            return tree.run.state.terminal

        wait_for(terminal, timeout, f"run {run_id} terminal")
        assert tree is not None
        return tree

    return wait
