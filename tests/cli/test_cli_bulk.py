"""Many submissions in one call: ``exec --from-file``, ``run --from-file`` and several names.

Each line is its own run; a refused line is named by its number and the others still start;
``--wait`` waits for all of them and exits 3 if any did not succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from daemon_process import DaemonProcess

from taskflow.protocol import GetRun

from .conftest import taskflow


def test_exec_from_a_file_starts_a_run_per_line_and_waits_for_all(daemon: DaemonProcess, tmp_path: Path) -> None:
    lines = tmp_path / "commands.txt"
    lines.write_text("# nightly checks\necho one\n\nexit 4\ncat /etc/hostname\n")
    result = taskflow("exec", "--from-file", str(lines), "--wait", socket=daemon.socket)
    assert result.code == 3, result.err  # one of them failed
    ids = result.out.split()
    assert len(ids) == 3 and len(set(ids)) == 3
    states = [daemon.call(GetRun(run_id=run_id)) for run_id in ids]
    assert [run.state.value for run in states] == ["succeeded", "failed", "succeeded"]
    assert [run.task for run in states] == ["@echo", "@exit", "@cat"]  # named after each line's program
    assert result.err.count("succeeded") == 2 and "failed" in result.err


def test_two_hundred_lines_from_stdin_all_succeed(daemon: DaemonProcess) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, "--json",
         "exec", "--from-file", "-", "--wait"],
        input="".join(f"echo line {i}\n" for i in range(200)), capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr

    finals = json.loads(done.stdout)
    assert len(finals) == 200 and {run["state"] for run in finals} == {"succeeded"}
    assert len({run["id"] for run in finals}) == 200


def test_run_from_a_file_reports_a_refused_line_and_starts_the_rest(daemon: DaemonProcess, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("hello\nno-such-task\ntagged who=ops\n")
    result = taskflow("run", "--from-file", str(names), "--json", socket=daemon.socket)
    assert result.code == 1
    assert "line 2: no task named 'no-such-task'" in result.err
    rows = result.json()
    assert [row["line"] for row in rows] == [1, 2, 3]
    assert rows[1]["error"] and "id" not in rows[1]
    assert daemon.call(GetRun(run_id=rows[2]["id"])).params == {"who": "ops"}


def test_run_takes_several_names(daemon: DaemonProcess) -> None:
    result = taskflow("run", "hello", "tagged", "--wait", socket=daemon.socket)
    assert result.code == 0, result.err
    assert [daemon.call(GetRun(run_id=i)).task for i in result.out.split()] == ["hello", "tagged"]


def test_bad_bulk_input_is_a_usage_error_in_one_sentence(daemon: DaemonProcess, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    result = taskflow("exec", "--from-file", str(empty), socket=daemon.socket)
    assert result.code == 2 and "holds no lines" in result.err
    missing = taskflow("run", "--from-file", str(tmp_path / "absent"), socket=daemon.socket)
    assert missing.code == 2 and "cannot read" in missing.err
    both = taskflow("exec", "--from-file", str(empty), "--", "true", socket=daemon.socket)
    assert both.code == 2 and "not both" in both.err
    quote = tmp_path / "quote.txt"
    quote.write_text("hello 'unclosed\n")
    assert taskflow("run", "--from-file", str(quote), socket=daemon.socket).code == 2
