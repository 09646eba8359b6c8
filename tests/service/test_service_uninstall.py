"""``taskflow service uninstall``: it takes away what install wrote and nothing else; running
tasks are left detached (and it says so) unless ``--stop-tasks`` cancels them first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from service_helpers import StandIns, tree_state

from taskflow.model import RunState
from taskflow.protocol import Cancel, GetRun, TriggerTask

UNIT = "etc/systemd/system/taskflowd.service"


def install(stand_ins: StandIns, root: Path, *more: str) -> None:
    done = stand_ins.taskflow("service", "install", "--root", str(root),
                              "--taskflowd", "/opt/taskflow/bin/taskflowd", *more)
    assert done.code == 0, done.err


def test_uninstall_removes_what_install_wrote_and_keeps_the_rest(stand_ins: StandIns, target: Path) -> None:
    for folder in ("etc/systemd", "var/lib"):  # as on any machine with systemd
        (target / folder).mkdir(parents=True)
    (target / "etc/group").write_text("root:x:0:\nstaff:x:50:\n")
    fresh = tree_state(target)
    install(stand_ins, target, "--hardening")
    (target / "etc/taskflow/tasks.d/mine.toml").write_text('[tasks.mine]\ncommand = "true"\n')
    state = target / "var/lib/taskflow"  # what systemd's StateDirectory= would hold
    state.mkdir()
    (state / "taskflow.db").write_text("runs")

    result = stand_ins.taskflow("service", "uninstall", "--root", str(target))
    assert result.code == 0, result.err
    assert not (target / UNIT).exists() and not (target / f"{UNIT}.d").exists()
    assert not (target / "etc/taskflow/tasks.d/example.toml").exists()
    assert (target / "etc/taskflow/tasks.d/mine.toml").exists()  # the user's own task file stays
    assert f"kept {target}/etc/taskflow/tasks.d: it is not empty" in result.out
    assert not state.exists()
    assert (target / "etc/group").read_text() == "root:x:0:\nstaff:x:50:\n"
    assert stand_ins.calls()[-1] == ["systemctl", f"--root={target}", "disable", "taskflowd.service"]

    (target / "etc/taskflow/tasks.d/mine.toml").unlink()
    (target / "etc/taskflow/tasks.d").rmdir()
    (target / "etc/taskflow").rmdir()
    assert tree_state(target) == fresh  # install + uninstall leave the tree as it was

    again = stand_ins.taskflow("service", "uninstall", "--root", str(target))
    assert again.code == 0 and "not installed here" in again.out


def test_keep_state_keeps_the_state_folder_and_the_groups(stand_ins: StandIns, target: Path) -> None:
    install(stand_ins, target)
    (target / "var/lib/taskflow").mkdir(parents=True)
    result = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--keep-state")
    assert result.code == 0, result.err
    assert (target / "var/lib/taskflow").is_dir()
    assert [line.split(":")[0] for line in (target / "etc/group").read_text().splitlines()] == \
        ["taskflow", "taskflow-ops"]
    assert not (target / UNIT).exists()


def test_a_unit_install_did_not_write_is_not_removed(stand_ins: StandIns, target: Path) -> None:
    (target / UNIT).parent.mkdir(parents=True)
    (target / UNIT).write_text("[Service]\nExecStart=/usr/bin/true\n")
    result = stand_ins.taskflow("service", "uninstall", "--root", str(target))
    assert result.code == 1 and result.err.count("\n") == 1
    assert "was not written by taskflow service install" in result.err
    assert (target / UNIT).exists() and stand_ins.calls() == []


def test_dry_run_changes_nothing(stand_ins: StandIns, target: Path) -> None:
    install(stand_ins, target, "--hardening")
    calls = stand_ins.calls()
    before = tree_state(target)
    result = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--dry-run")
    assert result.code == 0, result.err
    assert tree_state(target) == before and stand_ins.calls() == calls
    assert f"remove {target}/{UNIT}\n" in result.out
    assert f"run systemctl --root={target} disable taskflowd.service" in result.out


@pytest.fixture
def busy_daemon(tmp_path: Path) -> Iterator[tuple[DaemonProcess, str]]:
    """A real daemon with one long task running; its run id."""
    (tmp_path / "daemon").mkdir()
    daemon = DaemonProcess(tmp_path / "daemon")
    daemon.write_tasks('[tasks.long]\ncommand = "sleep 60"\n')
    try:
        daemon.start()
        run_id = daemon.call(TriggerTask(task="long")).id
        deadline = time.monotonic() + 20
        while daemon.call(GetRun(run_id=run_id)).state is not RunState.RUNNING:
            assert time.monotonic() < deadline, "the task did not start"
            time.sleep(0.05)
        yield daemon, run_id
        if not daemon.call(GetRun(run_id=run_id)).state.terminal:
            daemon.call(Cancel(run_id=run_id))  # leave no `sleep` behind the test
            while not daemon.call(GetRun(run_id=run_id)).state.terminal:
                time.sleep(0.05)
    finally:
        daemon.cleanup()


def test_running_tasks_are_left_detached_and_it_says_so(
    stand_ins: StandIns, target: Path, busy_daemon: tuple[DaemonProcess, str],
) -> None:
    daemon, run_id = busy_daemon
    install(stand_ins, target)
    result = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--socket", daemon.socket)
    assert result.code == 0, result.err
    assert f"1 running run (long {run_id}): left running, detached" in result.out
    assert daemon.call(GetRun(run_id=run_id)).state is RunState.RUNNING


def test_stop_tasks_cancels_them_before_anything_is_removed(
    stand_ins: StandIns, target: Path, busy_daemon: tuple[DaemonProcess, str],
) -> None:
    daemon, run_id = busy_daemon
    install(stand_ins, target)
    dry = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--socket", daemon.socket,
                             "--stop-tasks", "--dry-run")
    assert dry.code == 0 and "cancelled first (--stop-tasks)" in dry.out
    assert daemon.call(GetRun(run_id=run_id)).state is RunState.RUNNING

    result = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--socket", daemon.socket,
                                "--stop-tasks")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "cancelled 1 running run"
    assert daemon.call(GetRun(run_id=run_id)).state is RunState.CANCELLED
    assert not (target / UNIT).exists()


def test_stop_tasks_without_a_daemon_to_ask_changes_nothing(stand_ins: StandIns, target: Path) -> None:
    install(stand_ins, target)
    before = tree_state(target)
    result = stand_ins.taskflow("service", "uninstall", "--root", str(target), "--stop-tasks",
                                "--socket", "/tmp/tf-service-no-daemon.sock")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "cannot stop the running tasks" in result.err
    assert tree_state(target) == before
