"""Start a real ``taskflowd`` for a benchmark and wait until it answers (shared by the benches)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from taskflow.client import Client, ClientError
from taskflow.protocol import Health

BIN = Path(sys.executable).parent  # the venv's console scripts: taskflow, taskflowd


def start_taskflowd(
    state: Path, sock: str, tasks: Path, *extra: str, timeout: float = 120.0
) -> tuple[subprocess.Popen[bytes], float]:
    """The daemon process once it reports itself healthy, and the seconds that took."""
    began = time.perf_counter()
    daemon = subprocess.Popen(
        [str(BIN / "taskflowd"), "--state-dir", str(state), "--socket", sock, "--tasks", str(tasks), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    while time.perf_counter() - began < timeout:
        try:
            with Client.connect(sock, timeout=2) as client:
                if client.call(Health()).ok:
                    return daemon, time.perf_counter() - began
        except ClientError:
            pass
        time.sleep(0.01)
    daemon.kill()
    raise SystemExit(f"taskflowd did not start on {state} within {timeout:.0f} s")


def stop_taskflowd(daemon: subprocess.Popen[bytes]) -> None:
    daemon.terminate()
    daemon.wait(30)
