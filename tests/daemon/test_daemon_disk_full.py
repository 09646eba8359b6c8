"""A full disk under the state dir: one clear sentence, the daemon keeps serving, nothing
acknowledged is lost, and it works again as soon as space is freed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskflow.client import ClientError
from taskflow.model import RunState
from taskflow.protocol import Health, ListRuns, ShowRun, TriggerTask


@pytest.fixture
def small_state_dir(daemon) -> Iterator[Path]:  # noqa: ANN001 - the DaemonProcess fixture
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
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def _finished(client, run_id: str) -> RunState:  # noqa: ANN001
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
        assert client.call(Health()).ok
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
    assert runs == {before.id: RunState.SUCCEEDED, after.id: RunState.SUCCEEDED}
    assert "Traceback" not in daemon.log_tail(100_000)
