"""A real ``taskflowd`` in a subprocess: real socket under /tmp, real state dir, real tasks.

Shared by the daemon, CLI and TUI tests (each area's conftest builds its fixture on it).
Sockets live under /tmp because a pytest tmp path can exceed the 108-byte socket limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

from taskflow.client import Client, ClientError
from taskflow.protocol import Health


class DaemonProcess:
    """Start, kill and restart one daemon on a fixed state dir and socket."""

    def __init__(self, workdir: Path, *, prefix: str = "tfd") -> None:
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.tasks_dir = workdir / "tasks"
        self.tasks_dir.mkdir(exist_ok=True)
        self.socket = f"/tmp/{prefix}-{uuid.uuid4().hex[:10]}.sock"
        self.log = workdir / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_args: list[str] = []
        self.env: dict[str, str] = {}

    def write_tasks(self, text: str, name: str = "tasks.toml") -> Path:
        """Write a task file; ``$WORK`` in it becomes the work dir."""
        path = self.tasks_dir / name
        path.write_text(textwrap.dedent(text).replace("$WORK", str(self.workdir)))
        return path

    def start(self, *, wait: bool = True, timeout: float = 20.0) -> None:
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
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with Client.connect(self.socket, timeout=2) as client:
                    if client.call(Health()).ok:
                        return
            except (ClientError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"daemon did not answer within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return "(no daemon log)"

    def client(self) -> Client:
        return Client.connect(self.socket, timeout=10)

    def call(self, request: Any) -> Any:
        """One request on a fresh connection."""
        with Client.connect(self.socket, timeout=5) as client:
            return client.call(request)

    def kill(self) -> None:
        """SIGKILL the daemon only (tasks run in their own sessions and survive)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not stop within ``timeout``."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def cleanup(self) -> None:
        """What every fixture does last: nothing left running, no socket left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if os.path.exists(self.socket):
            os.unlink(self.socket)
