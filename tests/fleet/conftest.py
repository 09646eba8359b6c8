"""A real fleet on one machine: a real ``sshd`` on 127.0.0.1 and three real daemons.

The sshd (Debian's openssh-server) runs on a free port with its own config, host key and
authorized keys, for two throw-away users: ``tfssh-op`` (in the daemons' operator group)
and ``tfssh-view`` (only in their socket group: a viewer). Over SSH those users run
``taskflow bridge`` with the system ``/usr/bin/python3`` (the test venv lives under /root,
which they cannot enter) on a copy of ``src/`` they can read: the bridge needs nothing but
the standard library. The client side is the real CLI running the real ``ssh`` with an
``ssh_config`` passed by ``-F`` from ``hosts.toml``.

Needs root (useradd, sshd); without it, or without sshd, every test here is skipped with
the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from daemon_process import DaemonProcess

SSHD = "/usr/sbin/sshd"
SOCKET_GROUP = "tfssh-sock"
OPS_GROUP = "tfssh-ops"
OPERATOR = "tfssh-op"
VIEWER = "tfssh-view"
SRC = Path(__file__).resolve().parents[2] / "src"

TASKS = """
[tasks.hello]
command = "echo hello"

[tasks.flaky]
command = "test -e $WORK/fail && exit 5 || true"
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@dataclass
class Fleet:
    base: Path
    hosts_file: Path
    daemons: dict[str, DaemonProcess]
    operator: str = OPERATOR
    viewer: str = VIEWER

    def taskflow(self, *args: str, timeout: float = 90, hosts_file: Path | None = None) -> Result:
        """The real CLI, as a subprocess, with this fleet's hosts.toml; never a traceback."""
        env = {**os.environ, "NO_COLOR": "1", "TASKFLOW_HOSTS": str(hosts_file or self.hosts_file)}
        env.pop("TASKFLOW_DEBUG", None)
        env.pop("TASKFLOW_HOST", None)
        done = subprocess.run([sys.executable, "-m", "taskflow.console", *args], capture_output=True,
                              text=True, timeout=timeout, env=env)
        assert "Traceback" not in done.stderr, done.stderr
        assert "Traceback" not in done.stdout, done.stdout
        return Result(done.returncode, done.stdout, done.stderr)


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the SSH fleet tests need root (useradd and sshd)"
    if not os.access(SSHD, os.X_OK):
        return f"no sshd at {SSHD} (apt-get install openssh-server)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "no ssh client (apt-get install openssh-client)"
    if not os.access("/usr/bin/python3", os.X_OK):
        return "no /usr/bin/python3 for the remote side's bridge"
    return None


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def _ensure_account(user: str, groups: list[str]) -> None:
    for group in groups:
        if subprocess.run(["getent", "group", group], capture_output=True).returncode != 0:
            _run("groupadd", group)
    if subprocess.run(["getent", "passwd", user], capture_output=True).returncode != 0:
        # "*" (no password) rather than useradd's locked "!": sshd without PAM refuses a
        # locked account even for a public key.
        _run("useradd", "--create-home", "--password", "*", "--shell", "/bin/sh", user)
    _run("usermod", "--password", "*", "--groups", ",".join(groups), user)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("sshd did not listen in time")


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    _ensure_account(OPERATOR, [SOCKET_GROUP, OPS_GROUP])
    _ensure_account(VIEWER, [SOCKET_GROUP])
    # Everything the remote users read lives here (pytest's tmp dirs are root-only, 0700).
    base = Path(tempfile.mkdtemp(prefix="tfssh-", dir="/tmp"))
    base.chmod(0o755)
    sshd_proc: subprocess.Popen[bytes] | None = None
    daemons: dict[str, DaemonProcess] = {}
    try:
        shutil.copytree(SRC / "taskflow", base / "src" / "taskflow",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (base / "bin").mkdir()
        wrapper = base / "bin" / "taskflow"
        # What the console script does, with a python the remote user can run.
        wrapper.write_text(
            "#!/bin/sh\n"
            f"PYTHONPATH={base / 'src'} exec /usr/bin/python3 -c "
            "'import sys; from taskflow.console import main; sys.exit(main())' \"$@\"\n")
        wrapper.chmod(0o755)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "host_key"))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "client_key"))
        keys = base / "authorized_keys"
        keys.mkdir()
        for user in (OPERATOR, VIEWER):
            (keys / user).write_text((base / "client_key.pub").read_text())
            (keys / user).chmod(0o644)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        port = _free_port()
        config = base / "sshd_config"
        config.write_text(textwrap.dedent(f"""\
            Port {port}
            ListenAddress 127.0.0.1
            HostKey {base / 'host_key'}
            PidFile {base / 'sshd.pid'}
            AuthorizedKeysFile {keys}/%u
            AllowUsers {OPERATOR} {VIEWER}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PrintMotd no
            SetEnv PATH={base / 'bin'}:/usr/bin:/bin
            """))
        log = base / "sshd.log"
        with open(log, "wb") as out:
            sshd_proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=out, stderr=out)
        _wait_for_port(port, sshd_proc, log)
        ssh_config = base / "ssh_config"
        ssh_config.write_text(textwrap.dedent(f"""\
            Host *
                HostName 127.0.0.1
                Port {port}
                IdentityFile {base / 'client_key'}
                IdentitiesOnly yes
                BatchMode yes
                StrictHostKeyChecking no
                UserKnownHostsFile /dev/null
                LogLevel ERROR
                ConnectTimeout 10
            """))
        daemon_config = base / "taskflowd.toml"
        daemon_config.write_text(f'socket_group = "{SOCKET_GROUP}"\noperator_group = "{OPS_GROUP}"\n'
                                 'adhoc = "operator"\non_stop = "stop"\nstop_grace = 2.0\n')
        for name in ("web-1", "web-2", "web-3"):
            proc = DaemonProcess(tmp_path_factory.mktemp(name), prefix=f"tfssh-{name}")
            proc.write_tasks(TASKS)
            proc.extra_args = ["--config", str(daemon_config)]
            daemons[name] = proc
            proc.start(timeout=30)
        hosts_file = base / "hosts.toml"
        hosts_file.write_text(textwrap.dedent(f"""\
            [defaults]
            ssh_options = ["-F", "{ssh_config}"]

            [hosts.web-1]
            ssh = "{OPERATOR}@web-1"
            socket = "{daemons['web-1'].socket}"

            [hosts.web-2]
            ssh = "{OPERATOR}@web-2"
            socket = "{daemons['web-2'].socket}"

            [hosts.web-3]
            ssh = "{OPERATOR}@web-3"
            socket = "{daemons['web-3'].socket}"

            [hosts.viewer-1]
            ssh = "{VIEWER}@web-1"
            socket = "{daemons['web-1'].socket}"

            [groups]
            web = ["web-1", "web-2", "web-3"]
            """))
        yield Fleet(base, hosts_file, daemons)
    finally:
        for proc in daemons.values():
            try:
                proc.stop(timeout=20)
            except Exception:
                pass
            proc.cleanup()
        if sshd_proc is not None:
            sshd_proc.terminate()
            sshd_proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)
