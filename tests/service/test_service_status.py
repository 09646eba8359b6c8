"""``service status`` and ``service logs``: systemd's view of the unit (stand-in ``systemctl``),
the daemon's own status (a real daemon), and its journal (stand-in ``journalctl``) readably;
and how the daemon tells that systemd runs it (``status``, the TUI header)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from service_helpers import StandIns

from taskflow.client.aio import ConnectionState
from taskflow.daemon.notify import systemd_info
from taskflow.protocol import Status, StatusInfo, SystemdInfo

SHOW = """\
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
MainPID=4242
ActiveEnterTimestamp=Wed 2026-12-02 09:00:00 UTC
FragmentPath=/etc/systemd/system/taskflowd.service
DropInPaths=/etc/systemd/system/taskflowd.service.d/hardening.conf
NRestarts=1
Result=success
InvocationID=6f1c
"""

RUN = "01JDZ4H1X8K2M7N9P3Q5R6S7T8"
JOURNAL = [
    {"MESSAGE": "Started taskflowd.service - taskflow task orchestrator.", "PRIORITY": "6",
     "SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "__REALTIME_TIMESTAMP": "1764666000000000"},
    {"MESSAGE": "info taskflow.daemon.app: taskflowd 0.1.0 serving on /run/taskflow/taskflowd.sock",
     "PRIORITY": "6", "SYSLOG_IDENTIFIER": "taskflowd", "_PID": "4242", "__REALTIME_TIMESTAMP": "1764666001000000"},
    {"MESSAGE": json.dumps({"time": "2026-12-02T09:00:02Z", "level": "error", "logger": "taskflow.engine",
                            "message": "attempt 1 of nightly/backup failed", "run_id": RUN,
                            "exception": "  File \"/srv/backup.py\", line 3, in run\nOSError: boom"}),
     "PRIORITY": "6", "SYSLOG_IDENTIFIER": "taskflowd", "_PID": "4242", "__REALTIME_TIMESTAMP": "1764666002000000"},
]


@pytest.fixture
def systemd_daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A real daemon started the way systemd starts one (``INVOCATION_ID`` set)."""
    (tmp_path / "daemon").mkdir()
    daemon = DaemonProcess(tmp_path / "daemon")
    daemon.write_tasks('[tasks.hello]\ncommand = "echo hello"\n')
    daemon.env = {"INVOCATION_ID": "6f1c"}
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.cleanup()


def canned(stand_ins: StandIns) -> None:
    stand_ins.reply("systemctl", out=SHOW)
    stand_ins.reply("journalctl", out="".join(json.dumps(entry) + "\n" for entry in JOURNAL))


def test_status_shows_the_unit_the_daemon_and_the_journal(stand_ins: StandIns, systemd_daemon: DaemonProcess) -> None:
    canned(stand_ins)
    result = stand_ins.taskflow("service", "status", "--socket", systemd_daemon.socket)
    assert result.code == 0, result.err
    out = result.out
    assert "taskflowd.service: active (running) since Wed 2026-12-02 09:00:00 UTC; enabled; pid 4242; " \
           "restarted 1 time" in out
    assert "/etc/systemd/system/taskflowd.service + /etc/systemd/system/taskflowd.service.d/hardening.conf" in out
    assert "taskflowd 0.1.0, pid" in out and "workers 0/" in out and "1 task" in out
    assert "runs under systemd as" in out
    # Journal lines read as log lines, not JSON; the daemon's JSON records too.
    assert "info systemd: Started taskflowd.service - taskflow task orchestrator." in out
    assert "info taskflow.daemon.app: taskflowd 0.1.0 serving on /run/taskflow/taskflowd.sock" in out
    assert f"error taskflow.engine: attempt 1 of nightly/backup failed [run {RUN}]" in out
    assert "      OSError: boom" in out and '{"time"' not in out
    assert stand_ins.calls() == [
        ["systemctl", "show", "taskflowd.service", "--property=LoadState,ActiveState,SubState,UnitFileState,"
         "MainPID,ActiveEnterTimestamp,FragmentPath,DropInPaths,NRestarts,Result,InvocationID"],
        ["journalctl", "--unit", "taskflowd.service", "-o", "json", "--no-pager", "-n", "20"],
    ]


def test_status_json_carries_each_part(stand_ins: StandIns, systemd_daemon: DaemonProcess) -> None:
    canned(stand_ins)
    report = stand_ins.taskflow("service", "status", "--json", "--socket", systemd_daemon.socket, "-n", "3").json()
    assert report["unit"]["active_state"] == "active" and report["unit"]["main_pid"] == 4242
    assert report["daemon"]["systemd"]["invocation_id"] == "6f1c"
    assert [e["level"] for e in report["journal"]] == ["info", "info", "error"]
    assert report["journal"][2]["run_id"] == RUN
    assert stand_ins.calls()[1][-2:] == ["-n", "3"]


def test_status_says_what_it_could_not_read_and_exits_1(stand_ins: StandIns) -> None:
    stand_ins.reply("systemctl", err="System has not been booted with systemd as init system (PID 1). "
                                     "Can't operate.\n", code=1)
    stand_ins.reply("journalctl", err="No journal files were found.\n")
    result = stand_ins.taskflow("service", "status", "--socket", "/tmp/tf-service-no-daemon.sock")
    assert result.code == 1
    assert "System has not been booted with systemd" in result.out
    assert "cannot reach taskflowd at /tmp/tf-service-no-daemon.sock" in result.out
    assert "journalctl: No journal files were found." in result.out


def test_plain_status_names_the_unit_manager(systemd_daemon: DaemonProcess, stand_ins: StandIns) -> None:
    result = stand_ins.taskflow("status", "--socket", systemd_daemon.socket)
    assert result.code == 0, result.err
    assert "systemd" in result.out and "system manager" in result.out
    info = systemd_daemon.call(Status())
    assert info.systemd is not None and info.systemd.invocation_id == "6f1c"


def test_a_daemon_started_by_hand_reports_no_systemd(tmp_path: Path) -> None:
    (tmp_path / "daemon").mkdir()
    daemon = DaemonProcess(tmp_path / "daemon")
    daemon.env = {"INVOCATION_ID": "", "NOTIFY_SOCKET": ""}
    try:
        daemon.start()
        assert daemon.call(Status()).systemd is None
    finally:
        daemon.cleanup()


def test_logs_prints_the_journal_readably_and_follows(stand_ins: StandIns) -> None:
    canned(stand_ins)
    result = stand_ins.taskflow("service", "logs", "-n", "5")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("info systemd: Started taskflowd.service - taskflow task orchestrator.")
    assert lines[2].endswith(f"error taskflow.engine: attempt 1 of nightly/backup failed [run {RUN}]")
    followed = stand_ins.taskflow("service", "logs", "-f", "--since", "1 hour ago", "--user")
    assert followed.code == 0 and followed.out == result.out
    as_json = stand_ins.taskflow("service", "logs", "--json")
    assert [json.loads(line)["source"] for line in as_json.out.splitlines()] == ["systemd", "taskflowd", "taskflowd"]
    assert stand_ins.calls() == [
        ["journalctl", "--unit", "taskflowd.service", "-o", "json", "--no-pager", "-n", "5"],
        ["journalctl", "--user", "--unit", "taskflowd.service", "-o", "json", "--no-pager", "-n", "50",
         "--since", "1 hour ago", "-f"],
        ["journalctl", "--unit", "taskflowd.service", "-o", "json", "--no-pager", "-n", "50"],
    ]


def test_logs_without_journalctl_is_one_sentence(tmp_path: Path) -> None:
    empty = StandIns(tmp_path, {"PATH": str(tmp_path), "NO_COLOR": "1"})
    result = empty.taskflow("service", "logs")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "journalctl is not installed here" in result.err


@pytest.mark.parametrize(("cgroup", "expected"), [
    ("0::/system.slice/taskflowd.service\n", SystemdInfo(unit="taskflowd.service", invocation_id="abc")),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/taskflowd.service\n",
     SystemdInfo(unit="taskflowd.service", manager="user", invocation_id="abc")),
    ("12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/taskflowd.service\n0::/\n",
     SystemdInfo(unit="taskflowd.service", invocation_id="abc")),
    ("0::/\n", SystemdInfo(invocation_id="abc")),
])
def test_the_unit_comes_from_the_daemons_cgroup(tmp_path: Path, cgroup: str, expected: SystemdInfo) -> None:
    path = tmp_path / "cgroup"
    path.write_text(cgroup)
    assert systemd_info({"INVOCATION_ID": "abc"}, str(path)) == expected
    assert systemd_info({}, str(path)) is None
    notified = systemd_info({"NOTIFY_SOCKET": "/run/systemd/notify"}, str(path))
    assert notified is not None and notified.notify


async def test_the_tui_header_names_the_unit() -> None:
    from datetime import UTC, datetime

    from textual.app import App, ComposeResult

    from taskflow.tui.widgets import StatusBar

    status = StatusInfo(version="0.1.0", pid=1, started_at=datetime.now(UTC), uptime=60.0,
                        systemd=SystemdInfo(unit="taskflowd.service"))

    class Header(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar()

    app = Header()
    async with app.run_test(size=(160, 3)) as pilot:
        bar = app.query_one(StatusBar)
        for info, shown in ((status, True), (StatusInfo(version="0.1.0", pid=1, started_at=status.started_at,
                                                        uptime=60.0), False)):
            bar.show(welcome=None, status=info, host=(1.0, 2.0), connection=ConnectionState.CONNECTED,
                     view="dashboard")
            await pilot.pause()
            assert ("systemd taskflowd.service" in str(bar.render())) is shown
