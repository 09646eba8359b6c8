"""A read-only state dir or database: the daemon refuses to start in one sentence naming
the path, instead of serving while every mutation fails or dying on a raw ``[Errno 30]``.

Tests run as root, who ignores mode bits, so "read-only" is a read-only mount: a tmpfs
remounted ``ro`` for the state dir, a read-only bind mount over the database file.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@pytest.fixture
def tmpfs_state(daemon: DaemonProcess) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem needs root")
    daemon.state_dir.mkdir()
    _mount("-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(daemon.state_dir))
    try:
        yield daemon.state_dir
    finally:
        daemon.cleanup()
        db = daemon.state_dir / "taskflow.db"
        subprocess.run(["umount", "-l", str(db)], check=False, capture_output=True)
        subprocess.run(["umount", "-l", str(daemon.state_dir)], check=False)


def _refused(daemon: DaemonProcess) -> str:
    daemon.start(wait=False)
    assert daemon.proc is not None
    assert daemon.proc.wait(20) != 0
    return daemon.log.read_text(errors="replace")


def test_read_only_state_dir_refuses_in_one_sentence(daemon: DaemonProcess, tmpfs_state: Path) -> None:
    daemon.start()  # a first, healthy start creates the store
    assert daemon.stop() == 0
    daemon.log.write_text("")
    _mount("-o", "remount,ro", str(tmpfs_state))

    log = _refused(daemon)
    assert "Traceback" not in log
    assert "[Errno" not in log
    lines = [line for line in log.splitlines() if line.startswith("taskflowd:")]
    assert len(lines) == 1, log
    assert str(tmpfs_state) in lines[0] and "not writable" in lines[0], lines[0]


def test_read_only_database_refuses_to_start(daemon: DaemonProcess, tmpfs_state: Path) -> None:
    daemon.start()
    assert daemon.stop() == 0
    daemon.log.write_text("")
    db = tmpfs_state / "taskflow.db"
    _mount("--bind", str(db), str(db))
    _mount("-o", "remount,ro,bind", str(db))

    log = _refused(daemon)
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if line.startswith("taskflowd:")]
    assert len(lines) == 1, log
    assert str(db) in lines[0] and "not writable" in lines[0], lines[0]
