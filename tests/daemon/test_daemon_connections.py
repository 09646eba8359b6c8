"""Connection limits and running out of file descriptors, against a real daemon.

Other users hold connections from a child that drops to their uid after importing the
client (the venv is not theirs to run). A refused client must read one sentence in an
``Error{unavailable}``; the daemon must keep answering root, never spin, and never flood
its log.
"""

from __future__ import annotations

import logging
import os
import pwd
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from daemon_process import DaemonProcess

from taskflow.protocol import Health
from taskflow.taskfile.config import ConfigError, load_config

needs_root = pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")

# Opens COUNT connections as UID (Hello each), prints one line per attempt, then holds them
# until stdin closes. Stops at the first connection that gets no answer at all.
HOLD_AS = """
import os, sys
from taskflow.client import Client, ClientError, DaemonUnreachable
uid, gid, sock, count = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if uid:
    os.setgroups([]); os.setgid(gid); os.setuid(uid)
held = []
for _ in range(count):
    try:
        held.append(Client.connect(sock, timeout=5))
        print("ok", flush=True)
    except DaemonUnreachable as e:
        print("unreachable", e, flush=True)
        break
    except ClientError as e:
        print("refused", e.code, e.message, flush=True)
print("holding", flush=True)
sys.stdin.read()
"""

LOG_LIMIT = 50_000  # bytes of daemon log a burst of refusals may cost, at most


class Holder:
    """Connections held open by one user until ``release``."""

    def __init__(self, user: str, socket_path: str, count: int) -> None:
        entry = pwd.getpwnam(user)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD_AS, str(entry.pw_uid), str(entry.pw_gid), socket_path, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == "holding":
                break
            self.lines.append(line.strip())
        else:
            raise AssertionError(f"holder for {user} died: {self.proc.stderr.read() if self.proc.stderr else ''}")

    @property
    def ok(self) -> int:
        return sum(1 for line in self.lines if line == "ok")

    @property
    def refusals(self) -> list[str]:
        return [line for line in self.lines if line != "ok"]

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(30)


def _start(daemon: DaemonProcess, config: str | None = None) -> None:
    text = 'socket_group = "root"\n' + (config or "")
    path = daemon.workdir / "taskflow.toml"
    path.write_text(text)
    daemon.extra_args = ["--config", str(path)]
    daemon.start()
    os.chmod(daemon.socket, 0o666)  # let the other users reach it for the test


def _wait_health(daemon: DaemonProcess, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert daemon.call(Health()).ok
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _assert_quiet_log(daemon: DaemonProcess) -> None:
    text = daemon.log.read_text(errors="replace")
    assert len(text) < LOG_LIMIT, f"daemon log grew to {len(text)} bytes"
    assert "Traceback" not in text, text[-3000:]


@needs_root
def test_per_user_limit_refuses_with_a_sentence_and_root_still_connects(daemon):
    _start(daemon, "[connections]\nmax_per_user = 3\nmax_total = 50\nadmin_reserve = 2\n")
    holders: list[Holder] = []
    try:
        viewer = Holder("daemon", daemon.socket, 5)
        holders.append(viewer)
        uid = pwd.getpwnam("daemon").pw_uid
        sentence = f"too many connections from user daemon (uid {uid}, limit 3 per user); close some and retry"
        assert viewer.lines == ["ok"] * 3 + [f"refused unavailable {sentence}"] * 2

        assert daemon.call(Health()).ok  # root is not bound by another user's limit
        other = Holder("nobody", daemon.socket, 1)  # nor is another user
        holders.append(other)
        assert other.lines == ["ok"]

        viewer.release()  # closing gives the slots back
        again = Holder("daemon", daemon.socket, 3)
        holders.append(again)
        assert again.lines == ["ok"] * 3
    finally:
        for holder in holders:
            holder.release()
    log = daemon.log.read_text()
    assert log.count("refused a connection from daemon") == 1  # the second refusal is held back
    _assert_quiet_log(daemon)


@needs_root
def test_total_limit_keeps_the_last_slots_for_admins(daemon):
    _start(daemon, "[connections]\nmax_per_user = 10\nmax_total = 6\nadmin_reserve = 2\n")
    holders: list[Holder] = []
    try:
        holders.append(first := Holder("daemon", daemon.socket, 2))
        holders.append(second := Holder("nobody", daemon.socket, 3))
        assert first.lines == ["ok", "ok"]
        assert second.lines[:2] == ["ok", "ok"]
        assert second.refusals == [
            "refused unavailable taskflowd has too many client connections "
            "(limit 6, the last 2 kept for admins); close some and retry"
        ]
        # Non-admins are out, root still gets the reserved slots: it can look and act.
        holders.append(root := Holder("root", daemon.socket, 3))
        assert root.lines[:2] == ["ok", "ok"]
        assert root.refusals == [
            "refused unavailable taskflowd has too many client connections (limit 6); close some and retry"
        ]
        root.release()
        assert daemon.call(Health()).ok
    finally:
        for holder in holders:
            holder.release()
    _wait_health(daemon)
    _assert_quiet_log(daemon)


@needs_root
def test_low_open_file_limit_at_start_lowers_the_total_and_refuses_cleanly(daemon):
    # The daemon inherits a soft RLIMIT_NOFILE of 64 (as under `prlimit --nofile=64:...`).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    try:
        path = daemon.workdir / "taskflow.toml"
        path.write_text('socket_group = "root"\n')
        daemon.extra_args = ["--config", str(path)]
        daemon.start(wait=False)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    daemon.wait_ready()
    os.chmod(daemon.socket, 0o666)
    assert Path(f"/proc/{daemon.proc.pid}/limits").read_text().count(" 64 ") >= 1

    holders: list[Holder] = []
    try:
        holders.append(root := Holder("root", daemon.socket, 80))
        assert root.ok >= 4
        assert root.refusals, "64 descriptors cannot hold 80 connections"
        assert all(
            line.startswith("refused unavailable taskflowd has too many client connections (limit ")
            for line in root.refusals
        ), root.refusals[:3]
        # A non-admin meets the same clear refusal, not a hang.
        holders.append(viewer := Holder("daemon", daemon.socket, 1))
        assert viewer.lines[0].startswith("refused unavailable taskflowd has too many client connections")
    finally:
        for holder in holders:
            holder.release()
    _wait_health(daemon)
    _assert_quiet_log(daemon)
    assert "connections.max_total lowered from 512 to" in daemon.log.read_text()


@needs_root
def test_out_of_descriptors_backs_off_refuses_and_recovers(daemon):
    _start(daemon)
    pid = daemon.proc.pid
    in_use = len(os.listdir(f"/proc/{pid}/fd"))
    # Lower the running daemon's limit (as `prlimit --pid`): the configured 512 connections
    # no longer fit, so accept itself runs out of descriptors.
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={in_use + 10}:{in_use + 10}"], check=True)
    holders: list[Holder] = []
    try:
        holders.append(root := Holder("root", daemon.socket, 40))
        assert root.ok >= 1
        sentence = "taskflowd is out of file descriptors and cannot take connections now; retry shortly"
        assert root.refusals, "the limit cannot hold 40 connections"
        assert set(root.refusals) == {f"refused unavailable {sentence}"}

        # At the limit with nobody new: the daemon sleeps rather than retrying in a loop...
        before = _cpu_seconds(pid)
        time.sleep(2.0)
        assert _cpu_seconds(pid) - before < 0.5
        # ...and a burst of newcomers is refused at once, logged a line or two.
        holders.append(burst := Holder("daemon", daemon.socket, 20))
        assert set(burst.refusals) == {f"refused unavailable {sentence}"}
        assert len(burst.refusals) == 20
        log = daemon.log.read_text()
        assert 1 <= log.count("cannot accept client connections: Too many open files") <= 2
    finally:
        for holder in holders:
            holder.release()
    _wait_health(daemon)  # descriptors are free again: root is answered
    assert "accepting client connections again" in daemon.log.read_text()
    _assert_quiet_log(daemon)


def test_connections_table_is_checked(tmp_path):
    path = tmp_path / "taskflow.toml"
    path.write_text("[connections]\nmax_per_user = 0\nmax_totl = 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = sorted(str(e) for e in info.value.errors)
    assert any("connections.max_per_user" in p and "at least 1" in p for p in problems), problems
    assert any("connections.max_totl" in p and 'did you mean "max_total"' in p for p in problems), problems

    path.write_text("[connections]\nmax_total = 4\nadmin_reserve = 4\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [str(e) for e in info.value.errors] == [
        f"{path}: connections.admin_reserve: must be below max_total (4), got 4"
    ]

    path.write_text("[connections]\nmax_per_user = 8\n")
    limits = load_config(path).connections
    assert (limits.max_per_user, limits.max_total, limits.admin_reserve) == (8, 512, 4)


def test_repeated_lines_are_held_back_and_counted():
    from taskflow.daemon.ratelimited_log import RateLimitedLog

    now = [100.0]
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.ratelimited")
    logger.addHandler(handler := Collect())
    logger.propagate = False
    try:
        limited = RateLimitedLog(logger, interval=10.0, clock=lambda: now[0])
        for _ in range(1000):
            limited.warning("accept", "cannot accept: %s", "Too many open files")
        limited.warning("other", "another kind of line")
        now[0] += 11.0
        limited.warning("accept", "cannot accept: %s", "Too many open files")
    finally:
        logger.removeHandler(handler)
    assert records == [
        "cannot accept: Too many open files",
        "another kind of line",
        "cannot accept: Too many open files (repeated 999 times in the last 11s)",
    ]
