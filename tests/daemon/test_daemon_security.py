"""Roles from SO_PEERCRED, refusals, and the audit trail, against a real daemon."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
import time

import pytest

from taskflow.model import Role
from taskflow.protocol import ListAudit, TriggerTask

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")

# Runs as another user: connects, cancels, prints the outcome.
CANCEL_AS = """
import os, sys
from taskflow.client import Client, ClientError
from taskflow.protocol import Cancel
uid, gid, sock, run_id = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.setgroups([]); os.setgid(gid); os.setuid(uid)
with Client.connect(sock) as c:
    print("role", c.welcome.role)
    try:
        c.call(Cancel(run_id=run_id)); print("ok")
    except ClientError as e:
        print("refused", e.code, e.message)
"""


def _as_user(user: str, socket_path: str, run_id: str) -> list[str]:
    entry = pwd.getpwnam(user)
    out = subprocess.run(
        [sys.executable, "-c", CANCEL_AS, str(entry.pw_uid), str(entry.pw_gid), socket_path, run_id],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_viewer_cancel_refused_operator_cancel_audited(daemon, wait_terminal):
    config = daemon.workdir / "taskflow.toml"
    # nobody's primary group is the operator group; the "daemon" user is in neither.
    operator_group = os.popen("id -gn nobody").read().strip()
    config.write_text(f'operator_group = "{operator_group}"\nsocket_group = "root"\n')
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks('[tasks.long]\ncommand = "sleep 30"\n')
    daemon.start()
    os.chmod(daemon.socket, 0o666)  # let the other users reach it for this test
    # The store and task output are not for everyone: the state dir is closed to others.
    assert stat.S_IMODE(os.stat(daemon.state_dir).st_mode) & 0o007 == 0

    with daemon.client() as client:
        ref = client.call(TriggerTask(task="long"))
    time.sleep(0.3)

    viewer = _as_user("daemon", daemon.socket, ref.id)
    assert viewer[0] == f"role {Role.VIEWER}"
    assert viewer[1].startswith("refused forbidden")
    assert "operator" in viewer[1]

    operator = _as_user("nobody", daemon.socket, ref.id)
    assert operator == [f"role {Role.OPERATOR}", "ok"]

    with daemon.client() as client:
        assert wait_terminal(client, ref.id).run.state == "cancelled"
        audit = client.call(ListAudit(limit=10))
    cancels = [e for e in audit if e.action == "cancel"]
    by_user = {e.user: e for e in cancels}
    assert by_user["nobody"].outcome == "ok"
    assert by_user["nobody"].role is Role.OPERATOR
    assert by_user["nobody"].args == {"run_id": ref.id}
    assert by_user["daemon"].outcome.startswith("cancel needs the operator role")
    assert any(e.action == "trigger_task" and e.user == "root" for e in audit)
