"""Group members reach the socket under the shipped unit (issue 9 item 1).

systemd makes ``RuntimeDirectory=taskflow`` with ``RuntimeDirectoryMode=0750`` as
root:root, which locks the socket's group out of ``/run/taskflow``. The directory here is
made the same way, and a real non-root member of the socket group connects through it.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")

USER = "daemon"  # a stock non-root account; its primary group serves as the socket group

# Runs as USER (with only USER's groups): connects, asks for health, prints the outcome.
CONNECT_AS = """
import os, sys
from taskflow.client import Client, ClientError
from taskflow.protocol import Health
uid, gid, sock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.setgroups([gid]); os.setgid(gid); os.setuid(uid)
try:
    with Client.connect(sock, timeout=5) as c:
        print("ok" if c.call(Health()).ok else "unhealthy", c.welcome.role)
except ClientError as e:
    print("refused:", e)
"""


def _connect_as(user: str, socket_path: str) -> str:
    entry = pwd.getpwnam(user)
    out = subprocess.run(
        [sys.executable, "-c", CONNECT_AS, str(entry.pw_uid), str(entry.pw_gid), socket_path],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out.stdout.strip()


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """``/run/taskflow`` as systemd creates it: root:root, mode 0750 (under /tmp here)."""
    base = Path(f"/tmp/tf-run-{uuid.uuid4().hex[:8]}")
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    directory = base / "taskflow"
    directory.mkdir()
    os.chown(directory, 0, 0)
    os.chmod(directory, 0o750)
    try:
        yield directory
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_socket_group_member_connects_through_the_unit_runtime_directory(daemon, runtime_dir):
    group = grp.getgrgid(pwd.getpwnam(USER).pw_gid).gr_name
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f'socket_group = "{group}"\n')
    daemon.socket = str(runtime_dir / "taskflowd.sock")
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks('[tasks.idle]\ncommand = "true"\n')
    daemon.start()
    assert _connect_as(USER, daemon.socket) == "ok viewer"
    info = os.stat(runtime_dir)
    assert grp.getgrgid(info.st_gid).gr_name == group
    assert stat.S_IMODE(info.st_mode) == 0o750  # still closed to everyone else
    assert _connect_as("nobody", daemon.socket).startswith("refused:")


def test_hint_names_the_directory_when_the_directory_blocks(runtime_dir):
    path = str(runtime_dir / "taskflowd.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen()
        os.chmod(path, 0o666)  # the socket itself would let anyone in
        message = _connect_as(USER, path)
    finally:
        listener.close()
    assert message.startswith("refused: cannot reach taskflowd at"), message
    assert f"the directory {runtime_dir} (root:root 0750) does not let you in" in message
    assert "is your user in the socket's group" not in message


def test_hint_names_the_sockets_real_group(runtime_dir):
    os.chmod(runtime_dir, 0o755)
    path = str(runtime_dir / "taskflowd.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen()
        os.chmod(path, 0o660)  # root:root: USER is not in the group
        message = _connect_as(USER, path)
    finally:
        listener.close()
    assert "is your user in the socket's group (root)?" in message, message
