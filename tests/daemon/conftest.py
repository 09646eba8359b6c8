"""A fresh real ``taskflowd`` per test (see ``tests/daemon_process.py``), started by the test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess

from taskflow.client import Client
from taskflow.model import RunTree


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path)
    try:
        yield proc
    finally:
        proc.cleanup()


def _wait_terminal(client: Client, run_id: str, timeout: float = 30.0) -> RunTree:
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
def wait_terminal() -> Callable[..., RunTree]:
    return _wait_terminal
