"""Starting, waiting for, inspecting and cancelling runs through the CLI, on a real daemon."""

from __future__ import annotations

from .conftest import poll

ULID_LENGTH = 26


def _start(tf, *args: str) -> str:
    result = tf("run", *args)
    assert result.code == 0, result
    run_id = result.out.strip()
    assert len(run_id) == ULID_LENGTH, result.out
    return run_id


def test_run_wait_json_of_a_succeeding_task_exits_0(tf) -> None:
    result = tf("run", "hello", "--wait", "--json")
    assert result.code == 0, result
    run = result.json()
    assert run["task"] == "hello" and run["state"] == "succeeded"
    assert len(run["id"]) == ULID_LENGTH
    assert run["finished_at"].endswith("Z") and run["started_at"].endswith("Z")


def test_run_wait_of_a_failing_task_exits_3(tf) -> None:
    result = tf("run", "boom", "--wait", "--json")
    assert result.code == 3, result
    run = result.json()
    assert run["state"] == "failed" and run["error_type"] == "exit" and run["exit_code"] == 4


def test_run_wait_prints_only_the_id_on_stdout(tf) -> None:
    result = tf("run", "boom", "--wait")
    assert result.code == 3
    assert len(result.out.strip()) == ULID_LENGTH
    assert "failed" in result.err


def test_unknown_task_is_exit_1_with_one_sentence(tf) -> None:
    result = tf("run", "no-such-task")
    assert result.code == 1
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "no-such-task" in result.err


def test_show_json_has_children_and_attempts(tf) -> None:
    waited = tf("run", "tree", "--wait", "--json")
    assert waited.code == 0, waited
    root_id = waited.json()["id"]
    tree = tf("show", root_id, "--json").json()
    assert tree["run"]["id"] == root_id and tree["run"]["state"] == "succeeded"
    children = {child["run"]["task"]: child for child in tree["children"]}
    assert set(children) == {"tree/first", "tree/second"}
    for child in children.values():
        assert child["run"]["parent_id"] == root_id
        assert [a["number"] for a in child["attempts"]] == [1]
        assert child["attempts"][0]["exit_code"] == 0
    human = tf("show", root_id)
    assert human.code == 0 and "first" in human.out and "attempt 1" in human.out


def test_show_accepts_a_unique_prefix_and_refuses_unknown_runs(tf) -> None:
    run_id = tf("run", "hello", "--wait", "--json").json()["id"]
    assert tf("show", run_id[:-4], "--json").json()["run"]["id"] == run_id
    assert tf("show", run_id[-8:].lower(), "--json").json()["run"]["id"] == run_id  # as the TUI shows it
    missing = tf("show", "0" * ULID_LENGTH)
    assert missing.code == 1 and len(missing.err.strip().splitlines()) == 1


def test_runs_json_lists_runs_newest_first(tf) -> None:
    first = tf("run", "hello", "--wait", "--json").json()["id"]
    second = tf("run", "hello", "--wait", "--json").json()["id"]
    runs = tf("runs", "--json", "--task", "hello", "--limit", "50").json()
    ids = [run["id"] for run in runs]
    assert ids.index(second) < ids.index(first)
    assert all(run["task"] == "hello" for run in runs)
    failed = tf("runs", "--json", "--state", "failed").json()
    assert all(run["state"] == "failed" for run in failed)
    assert tf("runs").code == 0


def test_logs_prints_stdout_then_stderr(tf) -> None:
    run_id = tf("run", "hello", "--wait", "--json").json()["id"]
    both = tf("logs", run_id)
    assert both.code == 0
    assert both.out == "hello from hello\noops\n"
    only_err = tf("logs", run_id, "--stream", "stderr")
    assert only_err.out == "oops\n"
    records = tf("logs", run_id, "--json").json()
    assert [(r["stream"], r["data"]) for r in records] == [
        ("stdout", "hello from hello\n"), ("stderr", "oops\n")]


def test_logs_of_a_tree_prefixes_each_leaf(tf) -> None:
    root_id = tf("run", "tree", "--wait", "--json").json()["id"]
    out = tf("logs", root_id, "-f").out
    assert "tree/first| first\n" in out and "tree/second| second\n" in out


def test_cancel_a_running_run_then_wait_exits_3(tf) -> None:
    run_id = _start(tf, "sleepy")
    poll(lambda: tf("show", run_id, "--json").json()["run"]["state"] == "running")
    timed_out = tf("wait", run_id, "--timeout", "0.5")
    assert timed_out.code == 1 and "still running" in timed_out.err
    cancelled = tf("cancel", run_id)
    assert cancelled.code == 0, cancelled
    waited = tf("wait", run_id, "--json", "--timeout", "30")
    assert waited.code == 3, waited
    assert waited.json()["state"] == "cancelled"


def test_rerun_starts_a_new_run(tf) -> None:
    old = tf("run", "boom", "--wait", "--json").json()["id"]
    result = tf("rerun", old, "--wait", "--json")
    assert result.code == 3
    new = result.json()
    assert new["id"] != old and new["task"] == "boom" and new["trigger"] == "rerun"


def test_exec_runs_an_adhoc_command(tf) -> None:
    result = tf("exec", "--name", "adhoc-test", "--wait", "--json", "--", "sh", "-c", "echo adhoc; exit 0")
    assert result.code == 0, result
    run = result.json()
    assert run["state"] == "succeeded" and run["task"] == "@adhoc-test"
    assert tf("logs", run["id"], "--stream", "stdout").out == "adhoc\n"
    failing = tf("exec", "--wait", "--", "exit 7")  # one word with spaces: /bin/sh -c
    assert failing.code == 3
