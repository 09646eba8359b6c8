"""``taskflow bridge`` relays frames untouched, costs about a bare interpreter, and says in
one sentence when no daemon is there; the asyncio client (the TUI's) rides it over ssh."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from taskflow.client import AsyncClient, Client
from taskflow.client.hosts import load_hosts
from taskflow.protocol import ListRuns, Status

PROBE = """
import sys
sys.argv = ["taskflow", "bridge", "--socket", sys.argv[1]]
from taskflow.console import main
code = main()
heavy = sorted(m for m in ("msgspec", "argparse", "typing", "asyncio", "taskflow.protocol", "taskflow.cli",
                           "taskflow.client.blocking", "json", "re") if m in sys.modules)
print(",".join(heavy) or "-")
sys.exit(code)
"""


def test_bridge_without_a_daemon_is_one_sentence_and_imports_nothing_heavy(tmp_path):
    missing = str(tmp_path / "none.sock")
    done = subprocess.run([sys.executable, "-c", PROBE, missing], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert done.stderr == (f"taskflow: cannot reach taskflowd at {missing}: no such socket; "
                           "is it running? (systemctl status taskflowd)\n")
    assert done.stdout.strip() == "-"  # none of the heavy modules was imported

    # after global options it goes through the full parser, with the same sentence
    parsed = subprocess.run([sys.executable, "-m", "taskflow.cli.main", "--socket", missing, "bridge"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert (parsed.returncode, parsed.stderr) == (1, done.stderr)


def test_bridge_relays_frames_both_ways_and_ends_with_either_side(fleet):
    """A local bridge process under a real client: handshake, requests, then EOF ends it."""
    daemon = fleet.daemons["web-1"]
    bridge = subprocess.Popen([sys.executable, "-m", "taskflow.console", "bridge", "--socket", daemon.socket],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import socket

    ours, theirs = socket.socketpair()
    # a pipe pair is not a socket: splice it through a socketpair the client can use
    relay = subprocess.Popen(["cat"], stdin=theirs.fileno(), stdout=bridge.stdin)
    back = subprocess.Popen(["cat"], stdin=bridge.stdout, stdout=theirs.fileno())
    theirs.close()
    client = Client(ours, "bridge", 10)
    welcome = client.handshake("bridge-test")
    assert welcome.role == "admin"  # the bridge runs as root here: its credentials count
    assert client.call(Status()).workers_max == 8
    assert isinstance(client.call(ListRuns(limit=5)), list)
    client.close()
    assert relay.wait(10) == 0
    bridge.stdin.close()
    assert bridge.wait(10) == 0
    back.wait(10)

    # the daemon side closing ends the bridge too
    bridge = subprocess.Popen([sys.executable, "-m", "taskflow.console", "bridge", "--socket", daemon.socket],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    bridge.stdin.write(b"\x00\x00\x00\x05garbage")  # not a Hello: the daemon hangs up
    bridge.stdin.flush()
    assert bridge.wait(10) == 0


def test_the_asyncio_client_reaches_a_host_over_ssh(fleet):
    os.environ["TASKFLOW_HOSTS"] = str(fleet.hosts_file)
    try:
        host = load_hosts().hosts["web-2"]
    finally:
        del os.environ["TASKFLOW_HOSTS"]

    async def go():
        client = AsyncClient(host=host, reconnect=False, timeout=15)
        welcome = await client.connect()
        try:
            status = await client.call(Status())
        finally:
            await client.close()
        return welcome, status

    welcome, status = asyncio.run(go())
    assert (welcome.user, str(welcome.role)) == (fleet.operator, "operator")
    assert status.pid == fleet.daemons["web-2"].proc.pid


def test_the_asyncio_client_over_ssh_reconnects_when_the_host_daemon_comes_back(fleet):
    from taskflow.client import ConnectionState

    os.environ["TASKFLOW_HOSTS"] = str(fleet.hosts_file)
    try:
        host = load_hosts().hosts["web-2"]
    finally:
        del os.environ["TASKFLOW_HOSTS"]
    daemon = fleet.daemons["web-2"]
    states: list[tuple[ConnectionState, str]] = []

    async def until(condition, timeout=30.0):
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.05)

    async def go():
        client = AsyncClient(host=host, timeout=15, backoff_initial=0.1, backoff_max=0.5,
                             on_state=lambda state, why: states.append((state, why)))
        await client.connect()
        first = (await client.call(Status())).pid
        try:
            daemon.kill()
            await until(lambda: any(s == ConnectionState.RECONNECTING for s, _ in states))
            daemon.start(timeout=30)
            await until(lambda: states[-1][0] == ConnectionState.CONNECTED)
            second = (await client.call(Status())).pid
        finally:
            await client.close()
        return first, second

    first, second = asyncio.run(go())
    assert first != second == daemon.proc.pid
    reasons = [why for state, why in states if state == ConnectionState.RECONNECTING]
    assert reasons and reasons[0].startswith("host web-2: cannot reach taskflowd at "), states
