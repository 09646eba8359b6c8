"""Notifiers against a real daemon: a real HTTP server, a real SMTP sink, a real command.

Each test writes a ``taskflow.toml`` with ``[notifiers.*]``, starts a real ``taskflowd`` on
it, makes runs fail and recover (or breakers open and close) through the socket, and reads
what the sinks received.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from daemon_process import DaemonProcess

from taskflow.model import RunTree
from taskflow.protocol import ResetBreaker, TriggerTask, TripBreaker

FLAKY = """
[tasks.flaky]
command = "test -f $WORK/healthy"

[tasks.quiet]
command = "true"

[tasks.billing]
command = "true"
service = "payments"
tags = ["prod"]
"""


class Hook:
    """A real HTTP server on 127.0.0.1 that records each POSTed JSON body.

    ``fail_first`` requests are answered 500 before it starts answering 200.
    """

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_first = fail_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests += 1
                if hook.requests <= hook.fail_first:
                    self.send_response(500)
                else:
                    hook.bodies.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def start(daemon: DaemonProcess, config: str, tasks: str = FLAKY) -> None:
    daemon.write_tasks(tasks)
    path = daemon.workdir / "taskflow.toml"
    path.write_text(config.replace("$WORK", str(daemon.workdir)))
    daemon.extra_args = ["--config", str(path)]
    daemon.start()


def trigger(daemon: DaemonProcess, task: str, wait_terminal: Callable[..., RunTree]) -> RunTree:
    with daemon.client() as client:
        ref = client.call(TriggerTask(task=task))
        return wait_terminal(client, ref.id)


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_a_failure_and_the_recovery_after_it_reach_a_webhook_and_a_command(
    daemon: DaemonProcess, hook: Hook, wait_terminal: Callable[..., RunTree]
) -> None:
    notices = daemon.workdir / "notices.jsonl"
    start(daemon, f"""
[notifiers.chat]
webhook = "{hook.url}"
headers = {{ "X-Token" = "t0ken" }}

[notifiers.script]
command = 'printf "%s %s %s " "$TASKFLOW_EVENT" "$TASKFLOW_TASK" "$TASKFLOW_STATE" >>{notices}; cat >>{notices}; echo >>{notices}'
""")
    failed = trigger(daemon, "flaky", wait_terminal)
    assert failed.run.state == "failed"
    body = eventually(lambda: hook.bodies and hook.bodies[0])
    assert body["event"] == "failed" and body["notifier"] == "chat"
    assert body["run"]["id"] == failed.run.id and body["run"]["task"] == "flaky"
    assert body["run"]["state"] == "failed" and body["run"]["exit_code"] == 1

    line = eventually(lambda: notices.exists() and notices.read_text().splitlines())[0]
    event, task, state, document = line.split(" ", 3)
    assert (event, task, state) == ("failed", "flaky", "failed")
    assert json.loads(document)["run"]["id"] == failed.run.id

    # A success that follows no failure says nothing; the first one after a failure does.
    assert trigger(daemon, "quiet", wait_terminal).run.state == "succeeded"
    (daemon.workdir / "healthy").touch()
    recovered = trigger(daemon, "flaky", wait_terminal)
    body = eventually(lambda: len(hook.bodies) > 1 and hook.bodies[1])
    assert body["event"] == "recovered" and body["run"]["id"] == recovered.run.id
    assert body["previous"] == {"id": failed.run.id, "state": "failed"}
    assert trigger(daemon, "flaky", wait_terminal).run.state == "succeeded"  # still fine: no news
    time.sleep(0.5)
    assert [b["event"] for b in hook.bodies] == ["failed", "recovered"]
    assert len(notices.read_text().splitlines()) == 2


def test_recovery_is_known_across_a_restart_from_the_store(
    daemon: DaemonProcess, hook: Hook, wait_terminal: Callable[..., RunTree]
) -> None:
    start(daemon, f'[notifiers.chat]\nwebhook = "{hook.url}"\non = ["recovered"]\n')
    assert trigger(daemon, "flaky", wait_terminal).run.state == "failed"
    daemon.stop()
    daemon.start()
    (daemon.workdir / "healthy").touch()
    run = trigger(daemon, "flaky", wait_terminal)
    body = eventually(lambda: hook.bodies and hook.bodies[0])
    assert body["event"] == "recovered" and body["run"]["id"] == run.run.id  # "failed" was not asked for


def test_a_webhook_that_fails_at_first_is_retried_until_it_takes_the_notice(
    daemon: DaemonProcess, wait_terminal: Callable[..., RunTree]
) -> None:
    hook = Hook(fail_first=2)
    try:
        start(daemon, f'[notifiers.chat]\nwebhook = "{hook.url}"\nretries = 3\n')
        trigger(daemon, "flaky", wait_terminal)
        body = eventually(lambda: hook.bodies and hook.bodies[0], timeout=20)
        assert body["event"] == "failed"
        assert hook.requests == 3
    finally:
        hook.close()


def test_a_dead_notifier_never_holds_up_runs_and_is_reported_once(
    daemon: DaemonProcess, wait_terminal: Callable[..., RunTree]
) -> None:
    # A port nothing listens on, and a command that hangs past its timeout.
    start(daemon, """
[notifiers.gone]
webhook = "http://127.0.0.1:9/hook"
retries = 0

[notifiers.stuck]
command = "sleep 30"
timeout = "1s"
retries = 0
""")
    began = time.monotonic()
    for _ in range(5):
        assert trigger(daemon, "flaky", wait_terminal).run.state == "failed"
    assert time.monotonic() - began < 10  # five runs, not five notifier timeouts
    eventually(lambda: "notifier stuck" in daemon.log_tail(20000))
    time.sleep(6)  # every one of the 5 hung commands has timed out by now
    log = daemon.log_tail(50000)
    assert log.count("notifier gone:") == 1, log
    assert log.count("notifier stuck:") == 1, log
    assert "did not finish within 1 s and was killed" in log
    with daemon.client() as client:
        assert client.call(TriggerTask(task="quiet")).task == "quiet"  # the daemon is fine


def test_breakers_opening_and_closing_are_told_to_who_watches_the_service(
    daemon: DaemonProcess, hook: Hook
) -> None:
    start(daemon, f"""
[notifiers.payments]
webhook = "{hook.url}"
tags = ["prod"]
on = ["breaker_opened", "breaker_closed"]

[notifiers.other]
command = "touch $WORK/other-was-told"
tasks = ["quiet"]
""")
    with daemon.client() as client:
        client.call(TripBreaker(service="payments"))
        opened = eventually(lambda: hook.bodies and hook.bodies[0])
        assert opened["event"] == "breaker_opened" and opened["breaker"]["service"] == "payments"
        client.call(ResetBreaker(service="payments"))
        closed = eventually(lambda: len(hook.bodies) > 1 and hook.bodies[1])
        assert closed["event"] == "breaker_closed" and closed["breaker"]["status"] == "closed"
    time.sleep(0.5)
    assert not (daemon.workdir / "other-was-told").exists()  # "quiet" uses no service


def test_email_through_a_real_smtp_server(daemon: DaemonProcess, wait_terminal: Callable[..., RunTree]) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    with socket.socket() as probe:  # a free port: the controller checks the one it is given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        start(daemon, f"""
[notifiers.mail]
email = {{ to = ["oncall@example.com"], sender = "taskflowd@example.com", smtp = "127.0.0.1:{port}" }}
""")
        failed = trigger(daemon, "flaky", wait_terminal)
        raw = eventually(lambda: received and received[0])
    finally:
        controller.stop()
    mail = message_from_bytes(raw)
    assert mail["To"] == "oncall@example.com" and mail["X-Taskflow-Event"] == "failed"
    assert mail["Subject"].startswith("[taskflow] flaky failed on ")
    text = mail.get_payload(decode=True).decode()
    assert failed.run.id in text and "exit code 1" in text.replace("exit_code", "exit code")


def test_a_late_run_is_told_shown_and_left_running(
    daemon: DaemonProcess, hook: Hook, wait_terminal: Callable[..., RunTree]
) -> None:
    import subprocess
    import sys

    start(daemon, f'[notifiers.chat]\nwebhook = "{hook.url}"\non = ["late"]\n', tasks="""
[tasks.slow]
command = "sleep 2"
expect = { duration = "0.5s" }
""")
    done = trigger(daemon, "slow", wait_terminal)
    assert done.run.state == "succeeded" and done.run.late_at is not None  # told, not killed
    body = eventually(lambda: hook.bodies and hook.bodies[0])
    assert body["event"] == "late" and body["task"] == "slow"
    assert body["late"] == {"why": "duration", "expected": "0.5s"} and body["run"]["id"] == done.run.id
    listed = subprocess.run([sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, "runs"],
                            capture_output=True, text=True, timeout=30, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert "succeeded (late)" in listed.stdout, listed.stdout + listed.stderr
