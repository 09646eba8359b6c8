"""What the CLI does without a daemon: usage errors (exit 2), an unreachable daemon (exit 1,
one sentence), completion scripts, and the command registry."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from taskflow.cli.main import COMMAND_HOMES, COMMAND_MODULES, load_commands, requested_command
from taskflow.cli.runs import parse_param

from .conftest import taskflow

NO_DAEMON = "/tmp/tf-cli-no-daemon-here.sock"


@pytest.mark.parametrize("argv", [
    ["run"],                                  # NAME missing
    ["no-such-command"],
    ["runs", "--state", "bogus"],
    ["logs", "X", "--stream", "both"],
    ["run", "hello", "-p", "novalue"],        # -p needs K=V
    ["exec", "--wait"],                       # no command after --
    ["breakers", "reset"],                    # SERVICE missing
    ["wait", "X", "--timeout", "soon"],
    ["completion", "fish"],
])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    result = taskflow(*argv, socket=NO_DAEMON)
    assert result.code == 2, result
    assert result.err.strip()


@pytest.mark.parametrize("argv", [
    ["status"], ["status", "--json"], ["health"], ["ls"], ["runs", "--json"],
    ["run", "hello", "--wait"], ["show", "01M821A3GERF57G3EVYDX042C7"], ["breakers"],
    ["events"], ["cancel", "01M821A3GERF57G3EVYDX042C7"],
])
def test_unreachable_daemon_is_one_sentence_and_exit_1(argv: list[str]) -> None:
    result = taskflow(*argv, socket=NO_DAEMON)
    assert result.code == 1
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert NO_DAEMON in lines[0] and lines[0].startswith("taskflow: ")


def test_global_options_work_before_and_after_the_command() -> None:
    before = taskflow("--json", "--socket", NO_DAEMON, "status")
    after = taskflow("status", "--json", "--socket", NO_DAEMON)
    assert before.code == after.code == 1
    assert NO_DAEMON in before.err and NO_DAEMON in after.err


def test_help_lists_every_command() -> None:
    result = taskflow("--help")
    assert result.code == 0
    for command in ("status", "health", "ls", "run", "exec", "runs", "show", "logs", "wait",
                    "cancel", "rerun", "enable", "disable", "breakers", "events", "validate",
                    "tui", "demo", "completion"):
        assert f"    {command} " in result.out, command


def test_command_homes_agree_with_the_modules() -> None:
    # The fast path (import one module per call) must find every command where it is.
    every = {c.name for c in load_commands()}
    assert set(COMMAND_HOMES) == every
    for module in COMMAND_MODULES:
        for command in load_commands((module,)):
            assert COMMAND_HOMES[command.name] == module


def test_requested_command_skips_global_options() -> None:
    assert requested_command(["--socket", "run", "status"]) == "status"
    assert requested_command(["--json", "ls", "--tag", "x"]) == "ls"
    assert requested_command(["--json"]) is None


def test_param_values_are_json_when_they_parse() -> None:
    assert parse_param("count=3") == ("count", 3)
    assert parse_param("dry=true") == ("dry", True)
    assert parse_param("name=ops") == ("name", "ops")
    assert parse_param("items=[1, 2]") == ("items", [1, 2])
    assert parse_param("expr=a=b") == ("expr", "a=b")


def test_bash_completion_is_valid_bash() -> None:
    result = taskflow("completion", "bash")
    assert result.code == 0 and "complete -F _taskflow taskflow" in result.out
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    check = subprocess.run([bash, "-n"], input=result.out, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr


def test_zsh_completion_is_printed() -> None:
    result = taskflow("completion", "zsh")
    assert result.code == 0 and result.out.startswith("#compdef taskflow")
    zsh = shutil.which("zsh")
    if zsh is not None:
        check = subprocess.run([zsh, "-n"], input=result.out, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr


def test_bare_taskflow_off_a_terminal_prints_usage_instead_of_the_tui() -> None:
    result = taskflow(socket=NO_DAEMON, timeout=30)
    assert result.code == 0 and "COMMAND" in result.out
