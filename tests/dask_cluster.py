"""A real Dask cluster for tests: one ``dask scheduler`` and named ``dask worker`` processes on
127.0.0.1, each in its own session so a test can SIGKILL one (see ``tests/cluster``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


class Cluster:
    """One scheduler and its named workers, each a real process of its own session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
                    "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - held by the child
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=log, env=self.env, start_new_session=True,
                                            cwd=self.workdir)

    def start(self) -> None:
        self.start_scheduler()
        self.start_worker("w1")
        self.start_worker("w2", resources="cpu=4")
        self.wait_workers({"w1", "w2"})

    def start_scheduler(self) -> None:
        self._spawn("scheduler", [_bin("dask"), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                  "--no-dashboard"])

    def start_worker(self, name: str, resources: str | None = None) -> None:
        argv = [_bin("dask"), "worker", self.address, "--name", name, "--nthreads", "4", "--nworkers", "1",
                "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                "--local-directory", str(self.workdir / name)]
        if resources:
            argv += ["--resources", resources]
        self._spawn(name, argv)

    def workers(self) -> set[str]:
        from distributed import Client as DaskClient

        with DaskClient(self.address, timeout=10) as client:
            return {str(w["name"]) for w in client.scheduler_info()["workers"].values()}

    def wait_workers(self, names: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.workers() >= names:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"workers {names} did not join {self.address}")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)


def wait_for(check: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout}s")
