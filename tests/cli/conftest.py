"""A real ``taskflowd`` on a real socket for the CLI tests, and a way to run ``taskflow``.

One daemon serves the whole folder (starting one costs about a second); tests use task
names of their own so they do not see each other's runs. Every CLI call is a subprocess,
and every call is checked never to print a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from daemon_process import DaemonProcess

TASKS = """
[tasks.hello]
command = "echo hello from hello; echo oops >&2"
tags = ["greet"]

[tasks.boom]
command = "echo about to fail; exit 4"

[tasks.sleepy]
command = "sleep 30"

[tasks.toggled]
command = "true"

[tasks.tagged]
command = "true"
tags = ["nightly-ish"]

[tasks.paid]
command = "echo paid"
service = "payments-api"

[tasks.tree]
description = "a small tree"
[tasks.tree.children.first]
command = "echo first"
[tasks.tree.children.second]
command = "echo second"
depends_on = ["first"]
"""

START_TIMEOUT = 30.0


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def taskflow(*args: str, socket: str | None = None, timeout: float = 60,
             env: dict[str, str] | None = None) -> Result:
    """Run the CLI as a subprocess; fail the test on any traceback."""
    argv = [sys.executable, "-m", "taskflow.cli.main"]
    if socket is not None:
        argv += ["--socket", socket]
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("TASKFLOW_DEBUG", None)
    done = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout, done.stdout
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("cli-daemon"), prefix="tf-cli")
    proc.write_tasks(TASKS, "cli.toml")
    config = proc.workdir / "taskflow.toml"
    config.write_text('on_stop = "stop"\nstop_grace = 2.0\n')
    proc.extra_args = ["--config", str(config)]
    try:
        proc.start(timeout=START_TIMEOUT)
        yield proc
        proc.stop(timeout=20)
    finally:
        proc.cleanup()


@pytest.fixture
def tf(daemon: DaemonProcess):
    """``tf("ls", "--json")``: the CLI against the test daemon."""

    def call(*args: str, timeout: float = 60) -> Result:
        return taskflow(*args, socket=daemon.socket, timeout=timeout)

    return call


def poll(condition, timeout: float = 20.0, interval: float = 0.1):
    """Wait until ``condition()`` is truthy and return it; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
