"""``taskflow web`` without a browser: where it agrees to listen, what it says at start, the
missing-extra sentence, and the ``/health`` and ``/metrics`` routes beside the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from served_dashboard import TIMEOUT, WebProcess, free_port, taskflow_argv

from taskflow.web.address import BindAddress, BindError, parse_bind
from taskflow.web.served import dashboard_command


def run_taskflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(taskflow_argv(*args), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


# -- where it listens ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "address", "loopback"), [
    ("127.0.0.1:8080", BindAddress("127.0.0.1", 8080), True),
    (":9000", BindAddress("127.0.0.1", 9000), True),
    ("localhost", BindAddress("localhost", 8080), True),
    ("127.1.2.3:80", BindAddress("127.1.2.3", 80), True),
    ("[::1]:8081", BindAddress("::1", 8081), True),
    ("0.0.0.0:8080", BindAddress("0.0.0.0", 8080), False),
    ("[::]:8080", BindAddress("::", 8080), False),
    ("192.168.1.10", BindAddress("192.168.1.10", 8080), False),
    ("ops.example.com:8080", BindAddress("ops.example.com", 8080), False),  # never resolved
])
def test_bind_addresses_and_which_are_loopback(text: str, address: BindAddress, loopback: bool) -> None:
    assert parse_bind(text) == address
    assert parse_bind(text).is_loopback is loopback


@pytest.mark.parametrize("text", ["host:http", "host:0", "host:70000", "[::1", "[::1]8080"])
def test_a_malformed_bind_is_refused(text: str) -> None:
    with pytest.raises(BindError):
        parse_bind(text)


def test_a_non_loopback_bind_is_refused_without_public_and_says_why() -> None:
    port = free_port()
    result = run_taskflow("web", "--bind", f"0.0.0.0:{port}")
    assert result.returncode == 2, result.stderr
    [sentence] = result.stderr.splitlines()
    assert sentence.startswith("taskflow: refusing to serve the dashboard on 0.0.0.0")
    assert "no login" in sentence and "--public" in sentence
    assert f"ssh -L {port}:127.0.0.1:{port}" in sentence
    assert result.stdout == ""


def test_a_bad_bind_is_a_usage_error() -> None:
    result = run_taskflow("web", "--bind", "127.0.0.1:http")
    assert (result.returncode, result.stderr) == (
        2, "taskflow: --bind '127.0.0.1:http': the port must be a number from 1 to 65535\n")


def test_without_the_web_extra_it_says_which_extra_to_install() -> None:
    hide_extra = ("import sys; sys.modules['textual_serve'] = None; "
                  "from taskflow.cli.main import main; sys.exit(main(['web']))")
    result = subprocess.run([sys.executable, "-c", hide_extra], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (
        1, "taskflow: taskflow web needs the web extra: pip install 'taskflowd[web]'\n")


def test_each_browser_runs_the_tui_read_only_on_the_same_socket() -> None:
    assert dashboard_command("/run/my sock", read_only=True) == (
        f"exec {sys.executable} -m taskflow.cli.main --socket '/run/my sock' tui --read-only")
    assert "--read-only" not in dashboard_command("/s", read_only=False)


# -- what it says and serves ---------------------------------------------------------------


def test_it_says_where_it_serves_and_the_page_says_read_only(web: WebProcess, web_daemon: DaemonProcess) -> None:
    assert f"serving the dashboard of {web_daemon.socket} on http://127.0.0.1:{web.port} (read-only)" in web.output()
    status, page = web.get("")
    assert status == 200
    assert '<span class="read-only">read-only</span>' in page
    assert "fonts.googleapis.com" not in page  # nothing is fetched from the internet
    assert 'href="health"' in page and "metrics off" in page


def test_health_is_the_daemons_health_and_status_as_json(web: WebProcess, web_daemon: DaemonProcess) -> None:
    status, body = web.get("health")
    report = json.loads(body)
    assert status == 200, body
    assert report["ok"] is True and report["socket"] == web_daemon.socket
    assert report["health"]["ok"] is True
    assert report["status"]["pid"] == web_daemon.proc.pid


def test_health_is_503_with_the_reason_when_the_daemon_does_not_answer(tmp_path: Path) -> None:
    server = WebProcess(f"/tmp/tf-web-absent-{uuid.uuid4().hex[:8]}.sock", tmp_path)
    try:
        status, body = server.get("health")
    finally:
        server.stop()
    report = json.loads(body)
    assert status == 503
    assert report["ok"] is False and report["error"]


def test_metrics_without_a_metrics_port_is_404_saying_how_to_get_them(web: WebProcess) -> None:
    status, body = web.get("metrics")
    assert status == 404
    assert "metrics_port" in body


@pytest.fixture
def metrics_daemon(tmp_path: Path) -> Iterator[tuple[DaemonProcess, int]]:
    port = free_port()
    proc = DaemonProcess(tmp_path, prefix="tf-webm")
    proc.write_tasks('[tasks.hello]\ncommand = "echo hello"\n', "hello.toml")
    config = tmp_path / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n")
    proc.extra_args = ["--config", str(config)]
    try:
        proc.start(timeout=TIMEOUT)
        yield proc, port
    finally:
        proc.cleanup()


def test_metrics_relays_the_daemons_prometheus_exposition(metrics_daemon: tuple[DaemonProcess, int]) -> None:
    pytest.importorskip("prometheus_client")
    daemon, port = metrics_daemon
    server = WebProcess(daemon.socket, daemon.workdir, "--metrics-port", str(port))
    try:
        status, body = server.get("metrics")
        page = server.get("")[1]
    finally:
        server.stop()
    assert status == 200, body
    assert "taskflow_queued" in body
    assert '<a href="metrics"' in page


def test_allow_actions_warns_at_start_and_the_page_says_so(web_daemon: DaemonProcess) -> None:
    server = WebProcess(web_daemon.socket, web_daemon.workdir, "--allow-actions")
    try:
        page = server.get("")[1]
    finally:
        server.stop()
    [warning] = [line for line in server.output().splitlines() if "warning" in line]
    assert warning.startswith("taskflow web: warning: --allow-actions: every browser")
    assert "audit log records that user" in warning
    assert "(actions allowed)" in server.output()
    assert '<span class="actions">actions allowed</span>' in page


def test_public_serves_a_non_loopback_address_with_a_warning(web_daemon: DaemonProcess) -> None:
    server = WebProcess(web_daemon.socket, web_daemon.workdir, "--public", host="0.0.0.0")
    try:
        status, _ = server.get("")
    finally:
        server.stop()
    assert status == 200
    assert "warning: serving on http://0.0.0.0" in server.output()
