"""``taskflow validate`` as users and CI run it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from taskflow.cli import Command
from taskflow.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def taskflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def broken_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks.d"
    folder.mkdir()
    (folder / "nightly.toml").write_text(
        "[tasks.nightly.children.backup]\ncommand = 'true'\n"
        "[tasks.nightly.children.verify]\ncommand = 'true'\ndepends_on = ['bakup']\n"
    )
    (folder / "more.yaml").write_text("tasks:\n  x:\n    priority: 9\n    command: 'true'\n")
    (folder / "ok.toml").write_text("[tasks.fine]\ncommand = 'true'\n")
    return folder


def test_examples_are_valid():
    result = taskflow("validate", str(EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")
    assert "in 10 files and 1 config" in result.stdout


def test_broken_folder_prints_every_error_and_exits_1(tmp_path: Path):
    folder = broken_dir(tmp_path)
    result = taskflow("validate", str(folder))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{folder}/more.yaml: tasks.x.priority: must be between 0 and 3, got 9",
        f'{folder}/nightly.toml: tasks.nightly.children.verify.depends_on[0]: unknown task "bakup"',
    ]
    assert result.stderr.strip() == "taskflow: 2 errors in 2 files (3 task files checked)"
    assert "Traceback" not in result.stdout + result.stderr


def test_a_clash_with_a_broken_file_is_reported_in_the_same_pass(tmp_path: Path):
    folder = tmp_path / "tasks.d"
    folder.mkdir()
    (folder / "a.toml").write_text("[tasks.deploy]\ncommand = 'true'\n[tasks.other]\npriority = 9\n")
    (folder / "b.toml").write_text("[tasks.deploy]\ncommand = 'true'\n")
    result = taskflow("validate", str(folder))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f'{folder}/b.toml: tasks.deploy: task "deploy" is also defined in {folder}/a.toml' in lines
    assert any(line.startswith(f"{folder}/a.toml: tasks.other") for line in lines), lines


def test_json_output(tmp_path: Path):
    folder = broken_dir(tmp_path)
    result = taskflow("--json", "validate", str(folder))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["tasks"] == 1  # only ok.toml's task survives
    assert document["files"] == [str(folder / n) for n in ("more.yaml", "nightly.toml", "ok.toml")]
    assert document["errors"][0] == {
        "file": str(folder / "more.yaml"), "path": "tasks.x.priority",
        "reason": "must be between 0 and 3, got 9",
    }
    # --json also works after the command.
    good = json.loads(taskflow("validate", "--json", str(EXAMPLES)).stdout)
    assert good["ok"] is True and good["errors"] == [] and good["tasks"] > 20


def test_default_path_comes_from_the_environment(tmp_path: Path):
    folder = broken_dir(tmp_path)
    result = taskflow("validate", env={"TASKFLOW_TASKS": str(folder)})
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 2


def test_missing_path_and_named_config(tmp_path: Path):
    config = tmp_path / "taskflow.toml"
    config.write_text("max_workers = -1\n")
    result = taskflow("validate", str(tmp_path / "nope"), str(config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/nope: no such file or directory",
        f"{config}: max_workers: must be at least 1, got -1",
    ]


def test_usage_error_exits_2():
    result = taskflow("validate", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert taskflow("no-such-command").returncode == 2


def test_no_command_prints_help():
    result = taskflow()
    assert result.returncode == 0 and "validate" in result.stdout


def test_validate_imports_no_asyncio_or_textual():
    code = (
        "import sys\n"
        "from taskflow.cli.main import main\n"
        f"rc = main(['validate', {str(EXAMPLES)!r}])\n"
        "bad = [m for m in ('asyncio', 'textual', 'rich') if m in sys.modules]\n"
        "print('BAD=' + ','.join(bad))\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "BAD="


def test_overlong_path_is_an_error_line_not_a_crash(tmp_path: Path):
    long_path = str(tmp_path / ("x" * 5000))
    result = taskflow("validate", long_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{long_path}: cannot read: File name too long"]
    assert "Traceback" not in result.stderr


def test_unexpected_failure_is_one_sentence_and_ctrl_c_is_130(capsys, monkeypatch):
    monkeypatch.delenv("TASKFLOW_DEBUG", raising=False)
    def explode(args: argparse.Namespace) -> int:
        raise RuntimeError("disk on fire")

    def interrupt(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    commands = [
        Command("explode", "raise", lambda parser: None, explode),
        Command("interrupt", "press Ctrl-C", lambda parser: None, interrupt),
    ]
    assert main(["explode"], commands=commands) == 1
    err = capsys.readouterr().err
    assert err == ("taskflow: unexpected error (RuntimeError: disk on fire); "
                   "set TASKFLOW_DEBUG=1 for details\n")
    assert main(["interrupt"], commands=commands) == 130


def test_import_finds_what_the_daemon_would_orphan(tmp_path: Path):
    folder = tmp_path / "tasks.d"
    folder.mkdir()
    (folder / "jobs.toml").write_text(
        "[tasks.good]\npython = 'jobs:good'\n"
        "[tasks.typo]\npython = 'jobs:godo'\n"
        "[tasks.tree.children.step]\npython = 'killer:f'\n"
    )
    (folder / "jobs.py").write_text(
        "import taskflow\nprint('chatty at import')\n\n@taskflow.task\ndef good() -> int:\n    return 1\n"
    )
    (folder / "killer.py").write_text("import os\nos._exit(9)\n")
    assert taskflow("validate", str(folder)).returncode == 0  # offline: modules untouched
    result = taskflow("validate", "--import", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f'{folder}/jobs.toml: tasks.typo.python: module "jobs" has no function "godo" registered with @taskflow.task',
        f"{folder}/jobs.toml: tasks.tree.children.step.python: importing killer:f ended the process (exit status 9)",
    ]
    assert "Traceback" not in result.stderr and "chatty" not in result.stdout
