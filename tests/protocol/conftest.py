"""Fixtures for protocol tests: real Unix sockets in short /tmp paths, real servers.

Sockets live under /tmp rather than pytest's tmp_path because a Unix socket path must fit
in 108 bytes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from taskflow.daemon.server import Peer, RequestError, Server
from taskflow.model import BreakerState, Run, RunState
from taskflow.protocol import (
    ErrorCode,
    GetTask,
    Health,
    HealthInfo,
    ListBreakers,
    ListRuns,
    Request,
    RunRef,
    Status,
    StatusInfo,
    TriggerTask,
)

HERE = Path(__file__).resolve().parent
DEMO_SERVER = HERE / "protocol_demo_server.py"


@pytest.fixture
def sock_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="tfp-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def sample_run(number: int, state: RunState = RunState.RUNNING) -> Run:
    return Run(
        id=f"R{number:06d}",
        task="nightly/backup",
        root_id="R000000",
        parent_id=None if number == 0 else "R000000",
        state=state,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        params={"n": number},
    )


async def sample_handler(request: Request[Any], peer: Peer) -> Any:
    """A small handler with fixed rules, so tests see each response path of the server."""
    if isinstance(request, Status):
        return StatusInfo(version="t", pid=os.getpid(), started_at=datetime.now(UTC), uptime=1.0)
    if isinstance(request, Health):
        return HealthInfo(ok=True, loop_lag_ms=0.5)
    if isinstance(request, ListRuns):
        # Clamped as the daemon clamps it: the fuzz test sends limits up to 2**64 - 1.
        return [sample_run(i) for i in range(max(0, min(request.limit, 1000)))]
    if isinstance(request, ListBreakers):
        return [BreakerState(service=peer.user)]
    if isinstance(request, GetTask):
        if request.name == "boom":
            raise RuntimeError("handler exploded")
        if request.name == "slow":
            await asyncio.sleep(0.3)
        raise RequestError(ErrorCode.NOT_FOUND, f"no task named {request.name!r}")
    if isinstance(request, TriggerTask):
        return RunRef(id=peer.role.value, task=request.task)
    raise RequestError(ErrorCode.BAD_REQUEST, "not served by the test handler")


class ServerThread:
    """A real ``Server`` on its own event loop in a thread, driven from synchronous tests."""

    def __init__(self, path: str, handler: Callable[[Request[Any], Peer], Awaitable[Any]], **kwargs: Any):
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.server = Server(path, handler, version="test", **kwargs)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self.server.start())

    def run(self, coro: Awaitable[Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def call(self, fn: Callable[[], Any]) -> Any:
        async def inner() -> Any:
            return fn()

        return self.run(inner())

    def publish(self, topic: str, event: Any) -> None:
        self.loop.call_soon_threadsafe(self.server.publish, topic, event)

    def stop(self) -> None:
        self.run(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def server_factory(sock_dir: str) -> Iterator[Callable[..., ServerThread]]:
    started: list[ServerThread] = []

    def make(handler: Any = sample_handler, name: str = "d.sock", **kwargs: Any) -> ServerThread:
        kwargs.setdefault("socket_group", None)
        kwargs.setdefault("frame_timeout", 2.0)
        thread = ServerThread(os.path.join(sock_dir, name), handler, **kwargs)
        started.append(thread)
        return thread

    yield make
    for thread in started:
        thread.stop()


@pytest.fixture
def served(server_factory: Callable[..., ServerThread]) -> ServerThread:
    return server_factory()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition`` until true; machines here are shared, so be generous."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def start_demo_server(path: str, *extra: str) -> subprocess.Popen[str]:
    """Run ``protocol_demo_server.py`` in its own process; returns once it listens."""
    proc = subprocess.Popen(
        [sys.executable, str(DEMO_SERVER), path, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"demo server did not start: {line} {proc.stderr.read() if proc.stderr else ''}")
    return proc


def stop_demo_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def raw_connect(path: str, timeout: float = 10.0) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    return sock


@pytest.fixture
def kit() -> SimpleNamespace:
    """Helper functions for the tests (conftest is not importable under importlib mode)."""
    return SimpleNamespace(
        wait_for=wait_for,
        sample_run=sample_run,
        raw_connect=raw_connect,
        start_demo_server=start_demo_server,
        stop_demo_server=stop_demo_server,
    )
