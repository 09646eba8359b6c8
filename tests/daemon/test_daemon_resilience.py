"""Bad input never takes the daemon down: garbage frames, broken task files, a second daemon."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time

from taskflow.client import Client
from taskflow.model import RunState
from taskflow.protocol import (
    Health,
    ListTasks,
    RunChanged,
    Status,
    TriggerTask,
)


def _bad_connection(path: str, kind: int) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(path)
        if kind == 0:  # garbage bytes
            sock.sendall(os.urandom(512))
        elif kind == 1:  # a truncated frame: header promises more than comes
            sock.sendall(struct.pack(">I", 1000) + b"\x81\xa4type")
        elif kind == 2:  # oversized
            sock.sendall(struct.pack(">I", (1 << 20) + 1) + b"x" * 4096)
        else:  # valid msgpack, wrong message
            sock.sendall(struct.pack(">I", 3) + b"\x93\x01\x02")
        sock.recv(65536)
    except OSError:
        pass
    finally:
        sock.close()


def test_garbage_connections_do_not_disturb_a_follower(daemon):
    daemon.write_tasks('[tasks.tick]\ncommand = "true"\n')
    daemon.start()
    seqs: list[int] = []
    states: list[RunState] = []

    def follow() -> None:
        with Client.connect(daemon.socket) as client:
            for push in client.subscribe(["runs"]):
                seqs.append(push.seq)
                if isinstance(push.event, RunChanged):
                    states.append(push.event.run.state)
                if states.count(RunState.SUCCEEDED) >= 20:
                    return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    time.sleep(0.3)
    attackers = [threading.Thread(target=_bad_connection, args=(daemon.socket, i % 4)) for i in range(20)]
    with daemon.client() as client:
        for thread in attackers:
            thread.start()
        for _ in range(20):
            client.call(TriggerTask(task="tick"))
    for thread in attackers:
        thread.join(10)
    follower.join(30)
    assert not follower.is_alive(), "the follower stopped receiving events"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in the event sequence"
    assert states.count(RunState.SUCCEEDED) >= 20
    with daemon.client() as client:
        assert client.call(Health()).ok
    assert daemon.proc.poll() is None


def test_broken_task_file_keeps_last_good_version_and_reports(daemon):
    path = daemon.write_tasks('[tasks.alpha]\ncommand = "true"\n')
    daemon.start()
    path.write_text('[tasks.alpha]\ncommand = "true"\ntimeout = "soon"\n[tasks.beta]\ncommand = 1\n')
    deadline = time.monotonic() + 10
    status = None
    with daemon.client() as client:
        while time.monotonic() < deadline:
            status = client.call(Status())
            if status.task_errors:
                break
            time.sleep(0.1)
        assert status is not None and status.task_errors, "the broken file was not reported"
        assert any("timeout" in e for e in status.task_errors)
        assert [t.name for t in client.call(ListTasks())] == ["alpha"]  # last good version kept

        path.write_text('[tasks.alpha]\ncommand = "true"\n[tasks.gamma]\ncommand = "true"\n')
        while time.monotonic() < deadline + 10:
            names = [t.name for t in client.call(ListTasks())]
            if names == ["alpha", "gamma"]:
                break
            time.sleep(0.1)
        assert names == ["alpha", "gamma"]
        assert client.call(Status()).task_errors == []


def test_sighup_reloads_task_files(daemon):
    daemon.write_tasks('[tasks.one]\ncommand = "true"\n')
    daemon.start()
    daemon.write_tasks('[tasks.two]\ncommand = "true"\n', name="more.toml")
    daemon.proc.send_signal(1)  # SIGHUP
    deadline = time.monotonic() + 10
    with daemon.client() as client:
        while time.monotonic() < deadline:
            if {t.name for t in client.call(ListTasks())} == {"one", "two"}:
                break
            time.sleep(0.1)
        assert {t.name for t in client.call(ListTasks())} == {"one", "two"}


def test_second_daemon_on_the_same_state_dir_is_refused_with_the_pid(daemon):
    daemon.write_tasks('[tasks.one]\ncommand = "true"\n')
    daemon.start()
    other = subprocess.run(
        [sys.executable, "-m", "taskflow.daemon.main", "--state-dir", str(daemon.state_dir),
         "--socket", daemon.socket + ".2", "--tasks", str(daemon.tasks_dir)],
        capture_output=True, text=True, timeout=30,
    )
    assert other.returncode == 1
    assert f"pid {daemon.proc.pid}" in other.stderr
    assert "Traceback" not in other.stderr

    same_socket = subprocess.run(
        [sys.executable, "-m", "taskflow.daemon.main", "--state-dir", str(daemon.workdir / "other"),
         "--socket", daemon.socket, "--tasks", str(daemon.tasks_dir)],
        capture_output=True, text=True, timeout=30,
    )
    assert same_socket.returncode == 1
    assert "Traceback" not in same_socket.stderr
    assert daemon.socket in same_socket.stderr
    with daemon.client() as client:
        assert client.call(Health()).ok


def test_bad_config_is_one_sentence_per_problem(tmp_path):
    config = tmp_path / "taskflow.toml"
    config.write_text('max_workers = "lots"\nnot_a_key = 1\n')
    result = subprocess.run(
        [sys.executable, "-m", "taskflow.daemon.main", "--config", str(config),
         "--state-dir", str(tmp_path / "s"), "--socket", f"/tmp/tfd-bad-{os.getpid()}.sock"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "max_workers" in result.stderr and "not_a_key" in result.stderr
