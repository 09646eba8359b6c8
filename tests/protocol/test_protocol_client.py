"""The blocking CLI client and the reconnecting asyncio client against real servers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from taskflow.client import Client, ClientError, DaemonUnreachable, default_socket_path
from taskflow.protocol import Health, HealthInfo, ListRuns, Resync, RunChanged, Status, TriggerTask


def test_missing_socket_is_daemon_unreachable_with_a_hint(sock_dir):
    path = os.path.join(sock_dir, "none.sock")
    with pytest.raises(DaemonUnreachable) as caught:
        Client.connect(path)
    assert str(caught.value) == (
        f"cannot reach taskflowd at {path}: no such socket; is it running? (systemctl status taskflowd)"
    )
    assert caught.value.code == "unavailable"


def test_dead_socket_file_is_connection_refused(sock_dir):
    path = os.path.join(sock_dir, "dead.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    with pytest.raises(DaemonUnreachable, match="connection refused; is it running"):
        Client.connect(path)


def test_a_user_without_a_daemon_of_their_own_reaches_the_system_one(tmp_path, monkeypatch):
    from taskflow.client import resolve_socket_path

    own = tmp_path / "run-user" / "taskflow" / "taskflowd.sock"
    system = tmp_path / "run" / "taskflow" / "taskflowd.sock"
    monkeypatch.delenv("TASKFLOW_SOCKET", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run-user"))
    assert resolve_socket_path(system=str(system), uid=1000) == str(own)  # no system daemon either
    system.parent.mkdir(parents=True)
    assert resolve_socket_path(system=str(system), uid=1000) == str(system)
    own.parent.mkdir(parents=True)
    own.touch()
    assert resolve_socket_path(system=str(system), uid=1000) == str(own)  # their own daemon wins
    assert resolve_socket_path("/x.sock", system=str(system), uid=1000) == "/x.sock"


def test_default_socket_path_follows_design():
    assert default_socket_path({"TASKFLOW_SOCKET": "/x.sock"}, uid=1000) == "/x.sock"
    assert default_socket_path({}, uid=0) == "/run/taskflow/taskflowd.sock"
    assert default_socket_path({"XDG_RUNTIME_DIR": "/run/user/1000"}, uid=1000) == (
        "/run/user/1000/taskflow/taskflowd.sock"
    )
    assert default_socket_path({}, uid=1000) == "/tmp/taskflow-1000/taskflowd.sock"


STATUS_SCRIPT = """
import sys
from taskflow.client import Client
from taskflow.protocol import Status
with Client.connect(sys.argv[1]) as client:
    info = client.call(Status())
assert info.version == "test", info
print(",".join(m for m in ("asyncio", "textual", "rich") if m in sys.modules) or "clean")
"""


def test_a_status_call_imports_neither_asyncio_textual_nor_rich(sock_dir, kit):
    path = os.path.join(sock_dir, "d.sock")
    server = kit.start_demo_server(path)
    try:
        out = subprocess.run(
            [sys.executable, "-c", STATUS_SCRIPT, path], capture_output=True, text=True, timeout=60, check=True
        )
        assert out.stdout.strip() == "clean"
    finally:
        kit.stop_demo_server(server)


def test_blocking_subscribe_keeps_events_that_arrive_during_a_call(sock_dir, kit):
    path = os.path.join(sock_dir, "d.sock")
    server = kit.start_demo_server(path)
    try:
        with Client.connect(path) as client:
            stream = client.subscribe(["runs"])
            assert client.next_push(0.05) is None
            ref = client.call(TriggerTask(task="hello"))  # its RunChanged may arrive before its Ok
            push = next(stream)
            assert isinstance(push.event, RunChanged)
            assert push.event.run.id == ref.id == "run-1"
            assert push.seq == 1
            assert client.call(Status()).counts == {"succeeded": 1}
    finally:
        kit.stop_demo_server(server)


async def test_async_client_reconnects_resubscribes_and_emits_resync(sock_dir, kit):
    path = os.path.join(sock_dir, "d.sock")
    server = await asyncio.to_thread(kit.start_demo_server, path)
    states: list[str] = []
    from taskflow.client import AsyncClient, ConnectionState

    client = AsyncClient(path, backoff_initial=0.05, backoff_max=0.2, on_state=lambda s, why: states.append(s))
    try:
        welcome = await client.connect()
        assert welcome.version == "test"
        events = client.events()
        assert await client.subscribe(["runs"]) == ["runs"]
        assert isinstance(await client.call(Health()), HealthInfo)
        await client.call(TriggerTask(task="before"))
        push = await asyncio.wait_for(anext(events), 10)
        assert isinstance(push.event, RunChanged) and push.event.run.task == "before"

        await asyncio.to_thread(kit.stop_demo_server, server)
        for _ in range(500):
            if ConnectionState.RECONNECTING in states:
                break
            await asyncio.sleep(0.02)
        assert ConnectionState.DISCONNECTED in states and ConnectionState.RECONNECTING in states
        with pytest.raises(DaemonUnreachable):
            await client.call(Status())  # fails at once while the daemon is away

        server = await asyncio.to_thread(kit.start_demo_server, path)
        push = await asyncio.wait_for(anext(events), 20)
        assert isinstance(push.event, Resync) and push.event.reason == "reconnected"
        assert client.state == ConnectionState.CONNECTED
        await client.call(TriggerTask(task="after"))  # the new daemon publishes to the re-subscription
        push = await asyncio.wait_for(anext(events), 10)
        assert isinstance(push.event, RunChanged) and push.event.run.task == "after"
    finally:
        await client.close()
        await asyncio.to_thread(kit.stop_demo_server, server)
    assert states[-1] == ConnectionState.CLOSED


async def test_async_client_maps_errors_and_reports_a_lost_daemon(sock_dir, kit):
    path = os.path.join(sock_dir, "d.sock")
    server = await asyncio.to_thread(kit.start_demo_server, path)
    from taskflow.client import AsyncClient, ConnectionState

    states: list[str] = []
    client = AsyncClient(path, reconnect=False, on_state=lambda state, why: states.append(state))
    try:
        await client.connect()
        with pytest.raises(ClientError) as caught:
            await client.call(ListRuns(limit=1))
        assert caught.value.code == "bad_request"
        assert str(caught.value) == "ListRuns is not served here"
        assert isinstance(await client.call(Health()), HealthInfo)  # still connected
        await asyncio.to_thread(kit.stop_demo_server, server)
        for _ in range(500):
            if client.state == ConnectionState.DISCONNECTED:
                break
            await asyncio.sleep(0.02)
        assert states == [ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.DISCONNECTED]
        with pytest.raises(DaemonUnreachable, match="not connected to taskflowd"):
            await client.call(Status())
    finally:
        await client.close()
        kit.stop_demo_server(server)


async def test_async_client_started_before_the_daemon_connects_when_it_appears(sock_dir, kit):
    path = os.path.join(sock_dir, "late.sock")
    from taskflow.client import AsyncClient, ConnectionState

    states: list[str] = []
    client = AsyncClient(path, backoff_initial=0.05, backoff_max=0.1, on_state=lambda s, why: states.append(s))
    events = client.events()
    client.start()
    server = None
    try:
        for _ in range(500):
            if ConnectionState.RECONNECTING in states:
                break
            await asyncio.sleep(0.02)
        assert ConnectionState.RECONNECTING in states
        server = await asyncio.to_thread(kit.start_demo_server, path)
        push = await asyncio.wait_for(anext(events), 20)
        assert isinstance(push.event, Resync) and push.event.reason == "connected"
        assert client.state == ConnectionState.CONNECTED
        assert (await client.call(Status())).version == "test"
    finally:
        await client.close()
        if server is not None:
            await asyncio.to_thread(kit.stop_demo_server, server)
