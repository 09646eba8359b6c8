"""``taskflow service install``: into a directory tree (``--root``), verified by systemd-analyze;
the plan ``--dry-run`` prints, which changes nothing; re-runs; the one-sentence refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from service_helpers import StandIns, needs_analyze, non_root_prefix, tree_state, unit_library_tree

from taskflow.service.systemd_commands import systemd_running
from taskflow.service.unit_file import MARKER
from taskflow.taskfile import load_paths

TASKFLOWD = "/opt/taskflow/bin/taskflowd"  # what the `target` tree has a stand-in for
UNIT = "etc/systemd/system/taskflowd.service"
DROP_IN = "etc/systemd/system/taskflowd.service.d/hardening.conf"


def install(stand_ins: StandIns, root: Path, *more: str):
    return stand_ins.taskflow("service", "install", "--root", str(root), "--taskflowd", TASKFLOWD, *more)


def verify(root: Path, unit: str = "/" + UNIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", unit],
                          capture_output=True, text=True, timeout=60)


def groups(root: Path) -> dict[str, int]:
    lines = (root / "etc/group").read_text().splitlines()
    return {line.split(":")[0]: int(line.split(":")[2]) for line in lines}


@needs_analyze
def test_install_into_a_tree_writes_a_unit_systemd_analyze_accepts(stand_ins: StandIns, target: Path) -> None:
    result = install(stand_ins, target, "--hardening")
    assert result.code == 0, result.err

    unit = (target / UNIT).read_text()
    assert unit.splitlines()[0] == MARKER
    assert f"\nExecStart={TASKFLOWD} --log-format text\n" in unit
    for line in ("Type=notify", "KillMode=process", "RuntimeDirectory=taskflow", "StateDirectory=taskflow",
                 "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in unit, line
    assert (target / DROP_IN).read_text().startswith(MARKER + "\n")
    checked = verify(target)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")

    # The groups are lines of the tree's own etc/group, with system gids; nothing ran groupadd.
    gids = groups(target)
    assert set(gids) == {"taskflow", "taskflow-ops"} and all(100 <= gid < 1000 for gid in gids.values())
    assert len(set(gids.values())) == 2
    # The tasks folder, with an example task that loads cleanly.
    tasks = target / "etc/taskflow/tasks.d"
    assert [p.name for p in tasks.iterdir()] == ["example.toml"]
    loaded = load_paths([tasks])
    assert not loaded.errors and list(loaded.tasks) == ["hello"]
    # install ran verify in the tree (real) and enabled the unit there (the stand-in recorded it).
    assert f"ran systemd-analyze verify --root={target} --man=no /{UNIT}" in result.out
    assert stand_ins.calls() == [["systemctl", f"--root={target}", "enable", "taskflowd.service"]]


@needs_analyze
def test_enabling_in_a_tree_with_the_real_systemctl_makes_the_boot_link(tmp_path: Path, target: Path) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl not installed")
    no_stand_ins = StandIns(tmp_path, {"NO_COLOR": "1"})
    result = no_stand_ins.taskflow("service", "install", "--root", str(target), "--taskflowd", TASKFLOWD)
    assert result.code == 0, result.err
    link = target / "etc/systemd/system/multi-user.target.wants/taskflowd.service"
    assert os.readlink(link) == "/" + UNIT


@needs_analyze
def test_a_rerun_changes_nothing_and_a_changed_unit_is_shown_and_asked_about(
    stand_ins: StandIns, target: Path,
) -> None:
    assert install(stand_ins, target).code == 0
    before = tree_state(target)
    again = install(stand_ins, target)
    assert again.code == 0, again.err
    assert f"kept {target / UNIT}: unchanged" in again.out
    assert tree_state(target) == before  # the same groups (no second line), files and modes

    # Another taskflowd: the diff is shown; without a terminal or --yes nothing changes.
    unit_library_tree(target, "srv/venv/bin/taskflowd")
    before = tree_state(target)
    other = stand_ins.taskflow("service", "install", "--root", str(target), "--taskflowd", "/srv/venv/bin/taskflowd")
    assert other.code == 1
    assert f"-ExecStart={TASKFLOWD} --log-format text" in other.out
    assert "+ExecStart=/srv/venv/bin/taskflowd --log-format text" in other.out
    assert other.err.count("\n") == 1 and "--yes" in other.err
    assert tree_state(target) == before
    replaced = stand_ins.taskflow("service", "install", "--root", str(target),
                                  "--taskflowd", "/srv/venv/bin/taskflowd", "--yes")
    assert replaced.code == 0, replaced.err
    assert "\nExecStart=/srv/venv/bin/taskflowd --log-format text\n" in (target / UNIT).read_text()


@needs_analyze
def test_a_taskflowd_path_with_blanks_and_percent_signs_is_escaped(stand_ins: StandIns, target: Path) -> None:
    unit_library_tree(target, "opt/my venv/bin/taskflowd")
    result = stand_ins.taskflow("service", "install", "--root", str(target), "--taskflowd", "/opt/my venv/bin/taskflowd")
    assert result.code == 0, result.err
    assert '\nExecStart="/opt/my venv/bin/taskflowd" --log-format text\n' in (target / UNIT).read_text()
    checked = verify(target)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


@needs_analyze
def test_a_unit_systemd_analyze_rejects_is_not_enabled(stand_ins: StandIns, target: Path) -> None:
    result = stand_ins.taskflow("service", "install", "--root", str(target), "--taskflowd", "/opt/none/taskflowd")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "systemd-analyze verify" in result.err and "/opt/none/taskflowd is not executable" in result.err
    assert "the unit is written but not enabled" in result.err
    assert stand_ins.calls() == []  # no systemctl enable


def test_a_unit_install_did_not_write_is_refused_in_one_sentence(stand_ins: StandIns, target: Path) -> None:
    (target / UNIT).parent.mkdir(parents=True)
    (target / UNIT).write_text("[Service]\nExecStart=/usr/bin/true\n")
    result = install(stand_ins, target)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "was not written by taskflow service install" in result.err
    assert (target / UNIT).read_text() == "[Service]\nExecStart=/usr/bin/true\n"
    assert not (target / "etc/group").exists() and stand_ins.calls() == []


def test_dry_run_prints_every_file_and_command_and_changes_nothing(stand_ins: StandIns, target: Path) -> None:
    before = tree_state(target)
    result = install(stand_ins, target, "--hardening", "--dry-run")
    assert result.code == 0, result.err
    assert tree_state(target) == before
    assert stand_ins.calls() == []
    out = result.out
    for line in (f"create group taskflow: add a line to {target}/etc/group",
                 f"create folder {target}/etc/taskflow/tasks.d",
                 f"write {target}/etc/taskflow/tasks.d/example.toml",
                 f"write {target}/{UNIT}", f"write {target}/{DROP_IN}",
                 f"run systemd-analyze verify --root={target} --man=no /{UNIT}",
                 f"run systemctl --root={target} enable taskflowd.service"):
        assert line in out, line
    assert f"    | ExecStart={TASKFLOWD} --log-format text" in out  # file contents are shown
    assert "    | ProtectSystem=strict" in out


def test_dry_run_on_this_machine_plans_the_live_install(stand_ins: StandIns, tmp_path: Path) -> None:
    """What a fresh machine gets: the real paths, groupadd, verify, daemon-reload, enable --now,
    and a unit that systemd-analyze accepts; and nothing on this machine changes."""
    if os.path.exists("/" + UNIT):
        pytest.skip("this machine has a taskflowd unit already")
    watched = ["/etc/group", "/etc/systemd/system", "/etc/taskflow"]
    before = {path: tree_state(Path(path)) if os.path.isdir(path) else Path(path).read_bytes()
              if os.path.exists(path) else None for path in watched}
    result = stand_ins.taskflow("service", "install", "--dry-run", "--json")
    assert result.code == 0, result.err
    after = {path: tree_state(Path(path)) if os.path.isdir(path) else Path(path).read_bytes()
             if os.path.exists(path) else None for path in watched}
    assert after == before and stand_ins.calls() == []

    steps = result.json()["steps"]
    commands = [step["argv"] for step in steps if step["action"] == "run"]
    assert commands == [["systemd-analyze", "verify", "--man=no", "/" + UNIT],
                        ["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "taskflowd.service"]]
    for group in ("taskflow", "taskflow-ops"):
        assert {"action": "add-group", "name": group, "group_file": None} in steps or \
            {"action": "keep", "what": f"group {group}", "why": "it exists"} in steps
    writes = {step["path"]: step["content"] for step in steps if step["action"] == "write"}
    unit = writes["/" + UNIT]
    assert f"\nExecStart={sysconfig.get_path('scripts')}/taskflowd --log-format text\n" in unit
    if not os.path.isdir("/etc/taskflow/tasks.d"):
        assert "/etc/taskflow/tasks.d/example.toml" in writes
    if shutil.which("systemd-analyze"):  # the planned unit, written into a tree, verifies
        tree = unit_library_tree(tmp_path / "check", sysconfig.get_path("scripts") + "/taskflowd")
        (tree / UNIT).parent.mkdir(parents=True)
        (tree / UNIT).write_text(unit)
        checked = verify(tree)
        assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


@needs_analyze
def test_user_unit_uses_xdg_folders_and_verifies_as_a_user_unit(
    stand_ins: StandIns, tmp_path: Path, clean_xdg: None,
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    root = tmp_path / "tree"
    root.mkdir()
    env = {"HOME": "/home/ana", "XDG_RUNTIME_DIR": str(runtime), "XDG_STATE_HOME": "/home/ana/my state"}
    # The user unit runs this environment's taskflowd (systemd-analyze --user checks it exists).
    result = stand_ins.taskflow("service", "install", "--user", "--root", str(root), env=env)
    assert result.code == 0, result.err
    unit_path = root / "home/ana/.config/systemd/user/taskflowd.service"
    unit = unit_path.read_text()
    assert "\nEnvironment=TASKFLOW_SOCKET=%t/taskflow/taskflowd.sock\n" in unit
    assert '\nEnvironment="TASKFLOW_STATE_DIR=/home/ana/my state/taskflow"\n' in unit  # quoted for systemd
    assert "\nEnvironment=TASKFLOW_TASKS=/home/ana/.config/taskflow/tasks.d\n" in unit
    assert "\nWantedBy=default.target\n" in unit and "multi-user" not in unit
    for dropped in ("StateDirectory=", "ConfigurationDirectory=", "network-online.target", "User=", "Group="):
        assert f"\n{dropped}" not in unit and dropped not in unit.split("[Unit]")[1], dropped
    assert "RuntimeDirectory=taskflow" in unit
    assert (root / "home/ana/.config/taskflow/tasks.d/example.toml").is_file()
    assert not (root / "etc").exists()  # no groups for a user unit
    assert f"ran systemd-analyze --user verify --man=no {unit_path}" in result.out
    assert "loginctl enable-linger" in result.out
    checked = subprocess.run(["systemd-analyze", "--user", "verify", "--man=no", str(unit_path)],
                             capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    assert stand_ins.calls() == []  # systemctl has no --root for user units: a note says what to run


def test_hardening_is_refused_for_a_user_unit(stand_ins: StandIns, tmp_path: Path) -> None:
    result = stand_ins.taskflow("service", "install", "--user", "--hardening", "--root", str(tmp_path))
    assert result.code == 2 and result.err.count("\n") == 1 and "--hardening" in result.err


def test_a_system_install_without_root_is_one_sentence(stand_ins: StandIns) -> None:
    prefix = non_root_prefix()
    if prefix is None:
        pytest.skip("cannot run a non-root process here (no unshare --user)")
    result = stand_ins.taskflow("service", "install", prefix=prefix)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "a system install needs root" in result.err
    assert stand_ins.calls() == []


@pytest.mark.skipif(systemd_running(), reason="systemd is PID 1 here: this would really install")
def test_without_systemd_install_says_so_in_one_sentence(stand_ins: StandIns) -> None:
    args = ["service", "install"] if os.geteuid() == 0 else ["service", "install", "--user"]
    result = stand_ins.taskflow(*args)
    assert result.code == 1 and result.err.count("\n") == 1
    assert "systemd is not running on this machine (PID 1 is" in result.err and "--root DIR" in result.err
    assert stand_ins.calls() == []


def test_root_must_be_an_existing_folder(stand_ins: StandIns, tmp_path: Path) -> None:
    result = stand_ins.taskflow("service", "install", "--root", str(tmp_path / "nope"))
    assert result.code == 2 and "no such directory" in result.err


def test_the_wheel_ships_the_unit_and_the_drop_in(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("taskflowd-*.whl")
    archive = zipfile.ZipFile(wheel)
    assert archive.read("taskflow/service/taskflowd.service") == (root / "taskflowd.service").read_bytes()
    assert archive.read("taskflow/service/hardening.conf") == (root / "examples/systemd/hardening.conf").read_bytes()
