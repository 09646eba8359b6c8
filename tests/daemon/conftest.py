"""A real ``taskflowd`` in a subprocess: real socket under /tmp, real state dir, real tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskflow.client import Client, ClientError
from taskflow.protocol import Health


class DaemonProcess:
    """Start, kill and restart one daemon on a fixed state dir and socket."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.tasks_dir = workdir / "tasks"
        self.tasks_dir.mkdir(exist_ok=True)
        self.socket = f"/tmp/tfd-{uuid.uuid4().hex[:10]}.sock"
        self.log = workdir / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_args: list[str] = []
        self.env: dict[str, str] = {}

    def write_tasks(self, text: str, name: str = "tasks.toml") -> Path:
        path = self.tasks_dir / name
        path.write_text(textwrap.dedent(text).replace("$WORK", str(self.workdir)))
        return path

    def start(self, *, wait: bool = True) -> None:
        cmd = [
            sys.executable, "-m", "taskflow.daemon.main",
            "--state-dir", str(self.state_dir),
            "--socket", self.socket,
            "--tasks", str(self.tasks_dir),
            *self.extra_args,
        ]
        env = {**os.environ, **self.env}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with Client.connect(self.socket, timeout=2) as client:
                    if client.call(Health()).ok:
                        return
            except (ClientError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"daemon did not answer within {timeout}s:\n{self.log.read_text()}")

    def client(self) -> Client:
        return Client.connect(self.socket, timeout=10)

    def kill(self) -> None:
        """SIGKILL the daemon only (tasks run in their own sessions and survive)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path)
    yield proc
    if proc.proc is not None and proc.proc.poll() is None:
        proc.proc.send_signal(signal.SIGKILL)
        proc.proc.wait(10)
    if os.path.exists(proc.socket):
        os.unlink(proc.socket)


def _wait_terminal(client: Client, run_id: str, timeout: float = 30.0):  # noqa: ANN202
    """Poll ``ShowRun`` until the run is terminal; returns its RunTree."""
    from taskflow.protocol import ShowRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = client.call(ShowRun(run_id=run_id))
        if tree.run.state.terminal:
            return tree
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} not terminal after {timeout}s: {tree.run.state}")


@pytest.fixture
def wait_terminal():  # noqa: ANN201
    return _wait_terminal
