"""The daemon as the CLI shows it: ``status``, ``health``, ``breakers``, ``audit``, ``events``,
and the import budget of ``status --json``."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from .conftest import poll


def test_status_json_has_version_pid_and_workers(tf, daemon) -> None:
    result = tf("status", "--json")
    assert result.code == 0, result
    info = result.json()
    assert info["pid"] == daemon.proc.pid
    assert info["version"]
    assert info["workers_max"] >= 1 and info["workers_busy"] >= 0
    assert info["started_at"].endswith("Z")
    human = tf("status")
    assert human.code == 0 and f"pid {daemon.proc.pid}" in human.out


def test_health_exits_0_on_a_healthy_daemon(tf) -> None:
    result = tf("health")
    assert result.code == 0 and result.out.startswith("ok")
    assert tf("health", "--json").json()["ok"] is True


def test_status_json_imports_neither_asyncio_textual_nor_rich(daemon) -> None:
    # The benchmark runs `taskflow status --json`; it must stay a small, synchronous program.
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['taskflow', '--socket', {daemon.socket!r}, 'status', '--json']\n"
        "try:\n"
        "    runpy.run_module('taskflow.cli.main', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = sorted(m for m in ('asyncio', 'textual', 'rich', 'taskflow.taskfile',"
        " 'taskflow.engine', 'taskflow.daemon') if m in sys.modules)\n"
        "print('HEAVY', heavy, 'CODE', code, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert "HEAVY [] CODE 0" in done.stderr, done.stderr
    assert json.loads(done.stdout)["pid"] == daemon.proc.pid


def test_breakers_trip_reset_and_list(tf) -> None:
    tripped = tf("breakers", "trip", "payments-api", "--json")
    assert tripped.code == 0, tripped
    assert tripped.json()["status"] == "open"
    listed = tf("breakers", "--json")
    assert listed.code == 0, listed
    states = {b["service"]: b for b in listed.json()}
    assert states["payments-api"]["status"] == "open"
    reset = tf("breakers", "reset", "payments-api")
    assert reset.code == 0 and "closed" in reset.out
    states = {b["service"]: b for b in tf("breakers", "--json").json()}
    assert states["payments-api"]["status"] == "closed"


def test_audit_records_mutations(tf) -> None:
    assert tf("disable", "tagged", "--reason", "audit me").code == 0
    assert tf("enable", "tagged").code == 0
    entries = tf("audit", "--json", "--limit", "20").json()
    actions = [(e["action"], e["args"].get("name")) for e in entries]
    assert ("disable_task", "tagged") in actions and ("enable_task", "tagged") in actions
    assert tf("audit").code == 0


def test_events_streams_json_lines(daemon, tf) -> None:
    argv = [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, "events",
            "--topic", "runs"]
    stream = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stream.stdout],
                              daemon=True)
    reader.start()
    try:
        # The subscriber may still be starting: trigger runs until it reports one.
        def got_run_event() -> dict | None:
            tf("run", "hello")
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    event = json.loads(lines.get(timeout=0.5))
                except queue.Empty:
                    continue
                if event["type"] == "RunChanged" and event["run"]["task"] == "hello":
                    return event
            return None

        event = poll(got_run_event, timeout=40)
        assert isinstance(event["seq"], int) and event["run"]["id"]
    finally:
        stream.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = stream.communicate(timeout=20)
    assert stream.returncode == 130
    assert "Traceback" not in err
