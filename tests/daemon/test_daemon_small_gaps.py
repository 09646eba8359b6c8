"""Issue 14, item 9: the smaller gaps, each against a real daemon.

Tracebacks in ``show``, run transitions in the JSON log, ``half_open`` in ``breakers``, an
unknown service's reset refused, no next run for a disabled task, a reload with file errors
audited as failed, attempt and retry metrics, and injection of ``History`` and ``Logger``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from taskflow.client import ClientError
from taskflow.model import BreakerStatus, ErrorType, RunState
from taskflow.protocol import (
    DisableTask,
    ListAudit,
    ListBreakers,
    ListTasks,
    Reload,
    TriggerTask,
    TripBreaker,
)

PYTASKS = '''
import logging

import taskflow


class Unknown:
    pass


@taskflow.task
def explode(ctx: taskflow.Context) -> None:
    raise RuntimeError("boom from the task")


@taskflow.task
def remember(n: int, history: taskflow.History, log: logging.Logger) -> dict:
    log.info("seen %d earlier runs", len(history))
    last = history.last
    return {
        "n": n,
        "earlier": [run.result["n"] for run in history if run.succeeded],
        "last_state": last.state if last else None,
    }


@taskflow.task
def odd(thing: Unknown) -> None:
    pass
'''


def _cli(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_traceback_log_lines_and_injection(daemon, wait_terminal):
    (daemon.tasks_dir / "pytasks.py").write_text(PYTASKS)
    daemon.write_tasks(
        """
        [tasks.explode]
        python = "pytasks:explode"
        [tasks.remember]
        python = "pytasks:remember"
        [tasks.odd]
        python = "pytasks:odd"
        [tasks.shell]
        command = "exit 3"
        """
    )
    daemon.extra_args = ["--log-format", "json"]
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, client.call(TriggerTask(task="explode")).id)
        results = [wait_terminal(client, client.call(TriggerTask(task="remember", params={"n": n})).id)
                   for n in (1, 2, 3)]
        shell = wait_terminal(client, client.call(TriggerTask(task="shell")).id)
        odd = next(t for t in client.call(ListTasks()) if t.name == "odd")

    # show --json carries the Python traceback; a shell failure has none.
    assert tree.run.error_type is ErrorType.EXCEPTION
    [attempt] = tree.attempts
    assert attempt.traceback is not None
    assert "Traceback (most recent call last)" in attempt.traceback
    assert "RuntimeError: boom from the task" in attempt.traceback
    shown = json.loads(_cli(daemon, "--json", "show", tree.run.id).stdout)
    assert "RuntimeError: boom from the task" in shown["attempts"][0]["traceback"]
    assert shell.attempts[0].traceback is None

    # History (newest first, earlier runs only) and a Logger are injected by type.
    assert [r.run.result for r in results] == [
        {"n": 1, "earlier": [], "last_state": None},
        {"n": 2, "earlier": [1], "last_state": "succeeded"},
        {"n": 3, "earlier": [2, 1], "last_state": "succeeded"},
    ]
    # A parameter of a type that is not injected is still a parameter, checked before the run.
    assert odd.enabled
    with pytest.raises(ClientError, match=r"odd: parameter 'thing': expected Unknown, got int"):
        daemon.call(TriggerTask(task="odd", params={"thing": 1}))

    # Every transition of a run is a JSON log line with run_id, task and state.
    lines = [json.loads(line) for line in daemon.log.read_text().splitlines() if line.startswith("{")]
    of_explode = [(e["state"], e["level"]) for e in lines if e.get("run_id") == tree.run.id]
    assert ("running", "info") in of_explode
    assert ("failed", "warning") in of_explode
    assert all(e["task"] == "explode" for e in lines if e.get("run_id") == tree.run.id)
    assert ("succeeded", "info") in [(e["state"], e["level"]) for e in lines if e.get("run_id") == results[0].run.id]


def test_breakers_half_open_and_unknown_reset(daemon):
    port = _free_port()
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n")
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks(
        """
        [services.api]
        breaker = { failures = 1, cooldown = "1s" }
        [tasks.call]
        command = "true"
        service = "api"
        """
    )
    daemon.start()
    daemon.call(TripBreaker(service="api"))
    [state] = daemon.call(ListBreakers())
    assert state.status is BreakerStatus.OPEN
    # A manual trip stays open; an automatic opening probes after its cooldown.
    from taskflow.protocol import ResetBreaker

    daemon.call(ResetBreaker(service="api"))
    daemon.write_tasks(
        """
        [services.api]
        breaker = { failures = 1, cooldown = "1s" }
        [tasks.call]
        command = "false"
        service = "api"
        """
    )
    daemon.call(Reload())
    with daemon.client() as client:
        client.call(TriggerTask(task="call"))
        deadline = time.monotonic() + 10
        while client.call(ListBreakers())[0].status is BreakerStatus.CLOSED:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.2)
        [state] = client.call(ListBreakers())
    assert state.status is BreakerStatus.HALF_OPEN
    listed = json.loads(_cli(daemon, "--json", "breakers").stdout)
    assert listed[0]["status"] == "half_open"

    refused = _cli(daemon, "breakers", "reset", "nosuch")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "taskflow: no service named 'nosuch' (no task names it and it has no breaker)"
    )
    assert [b.service for b in daemon.call(ListBreakers())] == ["api"]
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'service="nosuch"' not in body
    assert 'taskflow_breaker_state{service="api"} 1.0' in body


def test_disabled_task_shows_no_next_run_and_reload_errors_are_audited(daemon):
    daemon.write_tasks(
        """
        [tasks.every]
        command = "true"
        schedule = { every = "1h" }
        """
    )
    daemon.start()
    [info] = daemon.call(ListTasks())
    assert info.next_run is not None
    daemon.call(DisableTask(name="every", reason="maintenance"))
    [info] = daemon.call(ListTasks())
    assert info.next_run is None
    listed = json.loads(_cli(daemon, "--json", "ls").stdout)
    assert listed[0]["next_run"] is None

    daemon.write_tasks("[tasks.broken]\ncommand = 1\n", "broken.toml")
    assert daemon.call(Reload()).errors
    entry = daemon.call(ListAudit(limit=1))[0]
    assert entry.action == "reload"
    assert entry.outcome.startswith("failed: 1 task file error(s): ")
    assert "broken.toml" in entry.outcome
    (daemon.tasks_dir / "broken.toml").unlink()
    assert not daemon.call(Reload()).errors
    assert daemon.call(ListAudit(limit=1))[0].outcome == "ok"


def test_attempt_and_retry_metrics(daemon, wait_terminal):
    port = _free_port()
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n")
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks(
        """
        [tasks.flaky]
        command = "test -e $WORK/second || { touch $WORK/second; exit 1; }"
        retries = { max = 2, backoff = "0.1s", jitter = 0 }
        """
    )
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, client.call(TriggerTask(task="flaky")).id)
    assert tree.run.state is RunState.SUCCEEDED
    deadline = time.monotonic() + 10
    while True:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        if 'taskflow_attempts_total{state="succeeded",task="flaky"} 1.0' in body or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 'taskflow_attempts_total{state="failed",task="flaky"} 1.0' in body
    assert 'taskflow_attempts_total{state="succeeded",task="flaky"} 1.0' in body
    assert 'taskflow_retries_total{task="flaky"} 1.0' in body
