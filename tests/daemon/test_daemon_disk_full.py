"""A full disk under the state dir: one clear sentence, the daemon keeps serving, nothing
acknowledged is lost, and it works again as soon as space is freed."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_process import DaemonProcess

from taskflow.client import Client, ClientError
from taskflow.model import RunState
from taskflow.protocol import Health, ListAudit, ListRuns, ShowRun, Status, TriggerTask


@pytest.fixture
def small_state_dir(daemon: DaemonProcess) -> Iterator[Path]:
    """The daemon's state dir on its own 4 MiB tmpfs, so filling it is quick and harmless."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    daemon.state_dir.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(daemon.state_dir)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield daemon.state_dir
    finally:
        daemon.cleanup()  # nothing may hold the filesystem open
        subprocess.run(["umount", "-l", str(daemon.state_dir)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 1):  # down to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _finished(client: Client, run_id: str) -> RunState:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = client.call(ShowRun(run_id=run_id)).run.state
        if state.terminal:
            return state
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def test_full_disk_refuses_triggers_clearly_and_recovers(daemon, small_state_dir: Path) -> None:
    daemon.write_tasks('[tasks.hello]\ncommand = "echo hello"\n')
    daemon.start()
    with daemon.client() as client:
        before = client.call(TriggerTask(task="hello"))
        assert _finished(client, before.id) is RunState.SUCCEEDED

    filler = _fill(small_state_dir)
    with daemon.client() as client:
        with pytest.raises(ClientError) as refused:
            client.call(TriggerTask(task="hello"))
        assert refused.value.code == "unavailable"
        assert "disk is full" in refused.value.message
        # The refused request's audit entry is held, not dropped, and health says why.
        health = client.call(Health())
        assert not health.ok and "disk is full" in " ".join(health.problems), health
    cli = subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, "run", "hello"],
        capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 1
    assert "disk is full" in cli.stderr and "Traceback" not in cli.stderr + cli.stdout
    assert len(cli.stderr.strip().splitlines()) == 1

    filler.unlink()
    with daemon.client() as client:
        after = client.call(TriggerTask(task="hello"))
        assert _finished(client, after.id) is RunState.SUCCEEDED
        runs = {run.id: run.state for run in client.call(ListRuns(limit=10))}
        assert client.call(Health()).ok
        audit = client.call(ListAudit(limit=10))
    assert runs == {before.id: RunState.SUCCEEDED, after.id: RunState.SUCCEEDED}
    refusals = [e for e in audit if e.action == "trigger_task" and "disk is full" in (e.outcome or "")]
    assert len(refusals) == 2, audit  # the client's and the CLI's, written once space came back
    assert "Traceback" not in daemon.log_tail(100_000)


def _cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, *args],
        capture_output=True, text=True, timeout=60,
    )


def _db(daemon: DaemonProcess, sql: str, *args: object) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{daemon.state_dir / 'taskflow.db'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def _metrics(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def test_output_that_fills_the_disk_does_not_leave_its_run_running(daemon, small_state_dir: Path) -> None:
    """Issue 9 item 6: the terminal state a full disk refuses is held and retried; `show`,
    `runs`, `status` and `wait` tell the truth meanwhile, `health` names the problem."""
    daemon.write_tasks('[tasks.flood]\ncommand = "head -c 8M /dev/zero; sleep 0.5; exit 3"\n')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n")
    daemon.extra_args = ["--config", str(config)]
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="flood"))
        deadline = time.monotonic() + 20
        while client.call(ShowRun(run_id=ref.id)).run.state is not RunState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    filler = _fill(small_state_dir)  # whatever the flood left, to the last byte
    with daemon.client() as client:
        assert _finished(client, ref.id) is RunState.FAILED
        tree = client.call(ShowRun(run_id=ref.id))
        assert tree.run.exit_code == 3 and tree.attempts[-1].exit_code == 3
        assert {r.id: r.state for r in client.call(ListRuns(limit=5))}[ref.id] is RunState.FAILED
        status = client.call(Status())
        assert status.counts.get("running", 0) == 0 and status.counts.get("failed") == 1, status.counts
        assert any("disk is full" in p for p in status.problems), status.problems
        health = client.call(Health())
        assert not health.ok and "disk is full" in " ".join(health.problems)
    metrics = _metrics(port)
    assert "taskflow_store_writable 0.0" in metrics and "taskflow_store_held_writes 0.0" not in metrics
    assert _db(daemon, "SELECT state FROM runs WHERE id = ?", ref.id) == [("running",)]  # held
    waited = _cli(daemon, "wait", ref.id, "--timeout", "10s")
    assert waited.returncode == 3, waited.stdout + waited.stderr
    shown = _cli(daemon, "health")
    assert shown.returncode == 1 and "disk is full" in shown.stdout

    filler.unlink()
    deadline = time.monotonic() + 20
    while _db(daemon, "SELECT state, exit_code FROM runs WHERE id = ?", ref.id) != [("failed", 3)]:
        assert time.monotonic() < deadline, "the held terminal state never landed"
        time.sleep(0.1)
    assert _db(daemon, "SELECT exit_code FROM attempts WHERE run_id = ?", ref.id) == [(3,)]
    with daemon.client() as client:
        assert client.call(Health()).ok
        assert client.call(Status()).problems == []
    metrics = _metrics(port)
    assert "taskflow_store_writable 1.0" in metrics and "taskflow_store_held_writes 0.0" in metrics
    log = daemon.log_tail(200_000)
    assert "Traceback" not in log
    assert log.count("keeping the writes that record what already happened") <= 2, log


def test_exit_status_survives_a_full_disk_and_a_crash(daemon, small_state_dir: Path) -> None:
    """The status file's bytes are taken when the attempt starts, so a task that ends on a
    full disk still leaves its exit status for the next daemon to read back."""
    daemon.write_tasks('[tasks.late]\ncommand = "sleep 1.5; exit 3"\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="late"))
        deadline = time.monotonic() + 20
        while not (attempts := client.call(ShowRun(run_id=ref.id)).attempts):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    pid = Path(attempts[-1].output_dir) / "pid"
    while not (pid.exists() and pid.stat().st_size > 0):  # the wrapper has begun
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # and got past its first lines: the task itself runs on a full disk
    filler = _fill(small_state_dir)
    daemon.kill()
    time.sleep(2.5)  # the task ends on the full disk, nobody watching
    filler.unlink()
    daemon.start()
    with daemon.client() as client:
        assert _finished(client, ref.id) is RunState.FAILED
        assert client.call(ShowRun(run_id=ref.id)).run.exit_code == 3
