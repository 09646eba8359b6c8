"""Issue 14, item 3: ``pause`` / ``resume`` against a real daemon.

Queued runs of what is paused wait (as ``queued``), running ones go on, schedules hold their
fires and follow their missed policy on resume; a pool limit of 0 is accepted and shown as
paused; every pause and resume is audited; pauses survive a restart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from taskflow.model import RunState
from taskflow.protocol import GetRun, ListAudit, ListRuns, ListTasks, Status, TriggerTask

TASKS = """
[pools]
db = 2
frozen = 0

[tasks.migrate]
command = "true"
pool = "db"

[tasks.other]
command = "true"

[tasks.slow]
command = "sleep 1"

[tasks.iced]
command = "true"
pool = "frozen"

[tasks.tree]
[tasks.tree.children.leaf]
command = "true"
"""


def _cli(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _state(daemon, run_id: str) -> RunState:
    return daemon.call(GetRun(run_id=run_id)).state


def _until_terminal(daemon, run_id: str, timeout: float = 20.0) -> RunState:
    deadline = time.monotonic() + timeout
    while not (state := _state(daemon, run_id)).terminal:
        assert time.monotonic() < deadline, f"run {run_id} still {state}"
        time.sleep(0.05)
    return state


def _paused(daemon) -> dict[str, bool]:
    return {task.name: task.paused for task in daemon.call(ListTasks())}


def test_paused_pool_holds_its_queued_runs_and_others_go_on(daemon):
    daemon.write_tasks(TASKS)
    daemon.start()
    done = _cli(daemon, "pause", "--pool", "db")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "paused: pool db, pool frozen (limit 0)"

    held = daemon.call(TriggerTask(task="migrate")).id
    free = daemon.call(TriggerTask(task="other")).id
    assert _until_terminal(daemon, free) is RunState.SUCCEEDED
    time.sleep(0.5)
    assert _state(daemon, held) is RunState.QUEUED
    assert _paused(daemon)["migrate"] and not _paused(daemon)["other"]
    status = json.loads(_cli(daemon, "--json", "status").stdout)
    assert status["paused"] == {"all": False, "pools": ["db"], "tasks": [], "zero_pools": ["frozen"]}
    assert "paused" in _cli(daemon, "status").stdout
    assert "paused" in next(line for line in _cli(daemon, "ls").stdout.splitlines() if "migrate" in line)

    resumed = json.loads(_cli(daemon, "--json", "resume", "--pool", "db").stdout)
    assert resumed["pools"] == []
    assert _until_terminal(daemon, held) is RunState.SUCCEEDED
    actions = [(e.action, e.args, e.outcome) for e in daemon.call(ListAudit(limit=10))]
    assert ("pause", {"all": False, "pool": "db", "task": None}, "ok") in actions
    assert ("resume", {"all": False, "pool": "db", "task": None}, "ok") in actions


def test_pool_limit_zero_is_accepted_and_paused_until_the_config_changes(daemon):
    daemon.write_tasks(TASKS)
    daemon.start()
    assert daemon.call(Status()).task_errors == []
    iced = daemon.call(TriggerTask(task="iced")).id
    time.sleep(0.5)
    assert _state(daemon, iced) is RunState.QUEUED
    assert _paused(daemon)["iced"]
    refused = _cli(daemon, "resume", "--pool", "frozen")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "taskflow: pool frozen is not paused (its configured limit is 0: raise it in the config)"
    )
    daemon.write_tasks(TASKS.replace("frozen = 0", "frozen = 1"))
    _cli(daemon, "reload")
    assert _until_terminal(daemon, iced) is RunState.SUCCEEDED


def test_pause_all_lets_running_work_finish_and_survives_a_restart(daemon):
    daemon.write_tasks(TASKS)
    daemon.start()
    running = daemon.call(TriggerTask(task="slow")).id
    deadline = time.monotonic() + 10
    while _state(daemon, running) is not RunState.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert _cli(daemon, "pause", "--all").stdout.strip() == "paused: everything, pool frozen (limit 0)"
    held = daemon.call(TriggerTask(task="other")).id
    assert _until_terminal(daemon, running) is RunState.SUCCEEDED  # running work goes on
    assert _state(daemon, held) is RunState.QUEUED

    daemon.stop()
    daemon.start()
    assert daemon.call(Status()).paused.all
    time.sleep(0.5)
    assert _state(daemon, held) is RunState.QUEUED  # still held after the restart
    assert _cli(daemon, "resume", "--all").stdout.strip() == "paused: pool frozen (limit 0)"
    assert _until_terminal(daemon, held) is RunState.SUCCEEDED


def test_paused_task_holds_its_subtree_and_its_schedule_follows_its_missed_policy(daemon):
    from datetime import UTC, datetime, timedelta

    due = datetime.now(UTC) + timedelta(seconds=4)
    daemon.write_tasks(TASKS + f"""
[tasks.tick]
command = "true"
schedule = {{ at = "{due.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}", missed = "once" }}
""")
    daemon.start()
    assert _cli(daemon, "pause", "--task", "tick").returncode == 0
    before = 0
    assert _cli(daemon, "pause", "--task", "tree").returncode == 0
    flags = _paused(daemon)
    assert flags["tree"] and flags["tree/leaf"] and flags["tick"] and not flags["other"]
    tree = daemon.call(TriggerTask(task="tree")).id
    time.sleep(max(0.5, (due - datetime.now(UTC)).total_seconds() + 1.0))  # past its fire time
    [leaf] = daemon.call(ListRuns(task="tree/leaf", roots_only=False))
    assert leaf.state is RunState.QUEUED and _state(daemon, tree) is RunState.PENDING
    assert len(daemon.call(ListRuns(task="tick"))) == before  # no fire while paused

    _cli(daemon, "resume", "--task", "tree")
    assert _until_terminal(daemon, tree) is RunState.SUCCEEDED
    _cli(daemon, "resume", "--task", "tick")
    time.sleep(1.0)
    # "once": the fire missed while paused comes as one catch-up run on resume.
    assert len(daemon.call(ListRuns(task="tick"))) == before + 1


def test_pause_refusals_are_one_sentence(daemon):
    daemon.write_tasks(TASKS)
    daemon.start()
    nosuch = _cli(daemon, "pause", "--task", "nosuch")
    assert (nosuch.returncode, nosuch.stderr.strip()) == (1, "taskflow: no task named 'nosuch'")
    nopool = _cli(daemon, "pause", "--pool", "nosuch")
    assert nopool.returncode == 1
    assert nopool.stderr.strip() == "taskflow: no pool named 'nosuch' (no task uses it and no limit names it)"
    bare = _cli(daemon, "pause")
    assert (bare.returncode, bare.stderr.strip()) == (2, "taskflow: say what to pause: --pool P, --task T or --all")
    both = _cli(daemon, "resume", "--all", "--pool", "db")
    assert both.returncode == 2
    not_paused = _cli(daemon, "resume", "--task", "other")
    assert (not_paused.returncode, not_paused.stderr.strip()) == (1, "taskflow: task other is not paused")
    audit = daemon.call(ListAudit(limit=10))
    assert any(e.action == "pause" and e.outcome == "no task named 'nosuch'" for e in audit)


# Issue 14, item 4: delayed start and a per-trigger priority (same daemon set-up).

def test_run_in_waits_as_scheduled_then_runs_and_survives_a_restart(daemon):
    from datetime import UTC, datetime

    daemon.write_tasks(TASKS)
    daemon.start()
    done = _cli(daemon, "run", "tree", "--in", "3s")
    assert done.returncode == 0, done.stderr
    tree_id = done.stdout.strip()
    asked = datetime.now(UTC)
    run = daemon.call(GetRun(run_id=tree_id))
    assert run.state is RunState.PENDING and run.not_before is not None
    assert 2.0 < (run.not_before - asked).total_seconds() <= 3.5
    listed = _cli(daemon, "runs", "--task", "tree").stdout
    assert "scheduled for" in listed

    daemon.stop()
    daemon.start()  # kept across the restart: still scheduled, then it starts on time
    assert _state(daemon, tree_id) is RunState.PENDING
    assert _until_terminal(daemon, tree_id) is RunState.SUCCEEDED
    ended = daemon.call(GetRun(run_id=tree_id))
    assert ended.started_at >= run.not_before


def test_a_scheduled_run_is_cancellable_and_priority_is_per_trigger(daemon):
    from datetime import UTC, datetime, timedelta

    daemon.write_tasks(TASKS)
    daemon.start()
    at = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = _cli(daemon, "--json", "run", "other", "--at", at, "--priority", "0")
    ref = json.loads(later.stdout)
    run = daemon.call(GetRun(run_id=ref["id"]))
    assert run.not_before.strftime("%Y-%m-%dT%H:%M:%SZ") == at
    assert run.priority == 0
    assert _cli(daemon, "cancel", ref["id"]).returncode == 0
    assert _until_terminal(daemon, ref["id"]) is RunState.CANCELLED

    past = _cli(daemon, "run", "other", "--at", "2020-01-01T00:00:00Z")
    assert (past.returncode, past.stderr.strip()) == (
        1, "taskflow: start time 2020-01-01T00:00:00+00:00 is in the past")
    bad = _cli(daemon, "run", "other", "--at", "tomorrow")
    assert bad.returncode == 2 and "invalid time 'tomorrow'" in bad.stderr
    assert _cli(daemon, "run", "other", "--priority", "7").returncode == 2
