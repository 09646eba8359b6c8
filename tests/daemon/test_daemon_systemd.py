"""The shipped unit passes systemd-analyze, and the daemon speaks the notify protocol."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "taskflowd.service"
DROP_IN = ROOT / "examples" / "systemd" / "hardening.conf"

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (.ci/run installs it)"
)


def _unit_root(tmp_path: Path, with_drop_in: bool) -> Path:
    """A --root tree with the unit, stand-in executables and the system's unit library."""
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system/taskflowd.service")
    if with_drop_in:
        (root / "etc/systemd/system/taskflowd.service.d").mkdir()
        shutil.copy(DROP_IN, root / "etc/systemd/system/taskflowd.service.d/hardening.conf")
    for exe in ("opt/taskflow/bin/taskflowd", "bin/kill"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    for library in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if Path(library).is_dir():
            shutil.copytree(library, root / "usr/lib/systemd/system", dirs_exist_ok=True, symlinks=True)
            break
    return root


@needs_analyze
@pytest.mark.parametrize("with_drop_in", [False, True], ids=["unit", "unit+hardening"])
def test_unit_verifies_without_any_warning(tmp_path, with_drop_in):
    root = _unit_root(tmp_path, with_drop_in)
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "--man=no", "/etc/systemd/system/taskflowd.service"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_unit_has_the_contract_settings():
    text = UNIT.read_text()
    for line in (
        "Type=notify", "NotifyAccess=main", "KillMode=process", "Restart=on-failure",
        "RuntimeDirectory=taskflow", "StateDirectory=taskflow",
    ):
        assert f"\n{line}\n" in text, line
    assert "\nWatchdogSec=" in text and "\nUMask=" in text


def test_daemon_sends_ready_status_and_watchdog_to_notify_socket(daemon):
    notify_path = f"/tmp/tfd-notify-{time.monotonic_ns()}.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(20)
    try:
        daemon.write_tasks('[tasks.idle]\ncommand = "true"\n')
        daemon.env = {"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "400000"}
        daemon.start(wait=False)
        messages: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            any("READY=1" in m for m in messages) and sum("WATCHDOG=1" in m for m in messages) >= 2
        ):
            messages.append(listener.recv(4096).decode())
        ready = next(m for m in messages if "READY=1" in m)
        assert "STATUS=" in ready
        assert sum("WATCHDOG=1" in m for m in messages) >= 2
        daemon.wait_ready()
        assert daemon.stop() == 0
        listener.settimeout(5)
        tail = []
        try:
            while True:
                tail.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        assert any("STOPPING=1" in m for m in tail)
    finally:
        listener.close()
        Path(notify_path).unlink(missing_ok=True)


def test_tasks_do_not_inherit_notify_or_preload_variables(daemon, wait_terminal):
    from taskflow.protocol import ReadLogs, TriggerTask

    daemon.write_tasks('[tasks.env]\ncommand = "env | sort"\n')
    daemon.env = {"NOTIFY_SOCKET": "/tmp/nowhere.sock", "LD_PRELOAD": "", "WATCHDOG_USEC": "0"}
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="env"))
        wait_terminal(client, ref.id)
        out = client.call(ReadLogs(run_id=ref.id, stream="stdout")).data.decode()
    assert "TASKFLOW_RUN_ID=" in out
    for name in ("NOTIFY_SOCKET", "WATCHDOG_", "LD_PRELOAD"):
        assert name not in out
