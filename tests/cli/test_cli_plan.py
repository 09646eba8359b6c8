"""``taskflow plan``: what a trigger would run, shown without running anything, against a
real daemon — the tree and its waves, what would skip what, pools, timeouts, retries,
services, pauses and parameters; the same refusals as ``run``; nothing stored or audited;
a viewer may plan; a 10,000-node tree is capped in text and complete in JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess

from taskflow.protocol import ListAudit, ListRuns, PlanTask

from .conftest import taskflow

BIG = 10_000

TASKS = """
pools = { db = 2 }

[tasks.deploy]
description = "release with a rollback"
timeout = "2m"

[tasks.deploy.children.build]
command = "make VERSION=$TASKFLOW_PARAM_VERSION"
pool = "db"
retries = { max = 2, on = ["timeout"] }

[tasks.deploy.children.migrate]
command = ["migrate", "--to", "head"]
depends_on = ["build"]
service = "plan-api"

[tasks.deploy.children.release]
command = "echo releasing ${TASKFLOW_PARAM_VERSION}"
depends_on = ["migrate"]
timeout = 30

[tasks.deploy.children.rollback]
command = "echo rolling back"
run_if = "any_failed"
depends_on = [{ task = "release", required = false }]

[tasks.deploy.children.docs]
command = "true"
enabled = false

[tasks.greet]
python = "plantasks:greet"

[tasks.off]
command = "true"
enabled = false
"""

PYTASKS = '''
import taskflow


@taskflow.task
def greet(name: str, times: int = 1) -> str:
    return name * times
'''


def _big_tree() -> str:
    parts = ['[tasks.big]\n[tasks.big.children.first]\ncommand = "true"\n']
    parts += [f'[tasks.big.children.n{i:05d}]\ncommand = "true"\ndepends_on = ["first"]\n' for i in range(BIG - 1)]
    return "".join(parts)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(Path(tmp_path_factory.mktemp("plan")), prefix="tf-plan")
    proc.write_tasks(TASKS, "plan.toml")
    proc.write_tasks(_big_tree(), "big.toml")
    (proc.tasks_dir / "plantasks.py").write_text(PYTASKS)
    try:
        proc.start(timeout=60)
        yield proc
    finally:
        proc.cleanup()


def tf(daemon: DaemonProcess, *args: str, timeout: float = 60):
    return taskflow(*args, socket=daemon.socket, timeout=timeout)


def test_plan_draws_the_tree_its_waves_and_what_would_skip_each_node(daemon: DaemonProcess) -> None:
    result = tf(daemon, "plan", "deploy", "-p", "VERSION=1.4.2")
    assert result.code == 0, result.err
    out = result.out
    assert "plan of deploy: 6 nodes, 5 leaves; if every leaf succeeds 3 run in 3 waves, 2 skipped" in out
    assert "nothing was run or recorded" in out
    lines = {line.split("  ")[0].lstrip("│├└─ "): line for line in out.splitlines() if "  command" in line}
    assert "wave 1" in lines["build"] and "pool db (limit 2)" in lines["build"]
    assert "timeout 2m00s" in lines["build"] and "retries 2 on timeout" in lines["build"]
    assert "wave 2" in lines["migrate"] and "service plan-api breaker closed" in lines["migrate"]
    assert "wave 3" in lines["release"] and "timeout 30s" in lines["release"]
    assert "skipped: runs only if a dependency fails (release)" in lines["rollback"]
    assert "skipped: disabled in task file" in lines["docs"]
    # The command as written, with the parameters filled in where the shell would.
    assert "command: make VERSION=$TASKFLOW_PARAM_VERSION" in out
    assert "expanded: make VERSION=1.4.2" in out and "expanded: echo releasing 1.4.2" in out
    assert "env: TASKFLOW_PARAM_VERSION=1.4.2" in out
    assert "skipped if build does not succeed" in out
    assert "if it fails: skips migrate, release; runs rollback" in out
    order = out[out.index("order ("):]
    assert "wave 1  build" in order and "wave 2  migrate" in order and "wave 3  release" in order
    assert "only if something fails: rollback" in order


def test_plan_json_is_one_document_with_every_node(daemon: DaemonProcess) -> None:
    result = tf(daemon, "plan", "deploy", "-p", "VERSION=1.4.2", "--json")
    assert result.code == 0, result.err
    plan = result.json()
    assert plan["task"] == "deploy" and plan["params"] == {"VERSION": "1.4.2"}
    assert (plan["nodes_total"], plan["leaves"], plan["leaves_run"], plan["waves"]) == (6, 5, 3, [1, 1, 1])
    assert plan["next_offset"] is None and plan["executor"] == "local" and plan["max_workers"] >= 1
    nodes = {node["name"]: node for node in plan["nodes"]}
    assert list(nodes) == ["deploy", "deploy/build", "deploy/migrate", "deploy/release", "deploy/rollback",
                           "deploy/docs"]
    build = nodes["deploy/build"]
    assert build["wave"] == 1 and build["pool"] == "db" and build["pool_limit"] == 2
    assert build["timeout"] == 120 and build["retries"]["max"] == 2 and build["retries"]["on"] == ["timeout"]
    assert build["expanded"] == "make VERSION=1.4.2"
    assert build["param_env"] == {"TASKFLOW_PARAM_VERSION": "1.4.2"} and build["params"] == {"VERSION": "1.4.2"}
    assert build["if_fails_skips"] == ["migrate", "release"] and build["if_fails_runs"] == ["rollback"]
    assert build["runs_on"] == "local" and build["where"] is None
    assert nodes["deploy/migrate"]["command"] == ["migrate", "--to", "head"]
    assert nodes["deploy/migrate"]["expanded"] is None  # argv is exec'd, not expanded
    assert nodes["deploy/migrate"]["breaker"] == "closed"
    rollback = nodes["deploy/rollback"]
    assert rollback["runs"] is False and rollback["wave"] is None and rollback["run_if"] == "any_failed"
    assert rollback["depends_on"] == [{"task": "deploy/release", "required": False}]
    assert nodes["deploy/docs"]["skip"] == "disabled in task file"
    assert nodes["deploy"]["kind"] == "group" and nodes["deploy"]["runs_on"] is None


def test_plan_shows_pauses_and_an_open_breaker_as_they_are_now(daemon: DaemonProcess) -> None:
    assert tf(daemon, "pause", "--pool", "db").code == 0
    assert tf(daemon, "breakers", "trip", "plan-api").code == 0
    try:
        plan = tf(daemon, "plan", "deploy", "--json").json()
        text = tf(daemon, "plan", "deploy").out
    finally:
        assert tf(daemon, "resume", "--pool", "db").code == 0
        assert tf(daemon, "breakers", "reset", "plan-api").code == 0
    nodes = {node["name"]: node for node in plan["nodes"]}
    assert plan["paused"] == ["pool db is paused"]
    assert nodes["deploy/build"]["paused"] == "pool db is paused"
    assert nodes["deploy/migrate"]["breaker"] == "open"
    assert nodes["deploy/migrate"]["breaker_note"].startswith("tripped by ")
    assert "paused now: pool db is paused" in text and "breaker open" in text
    assert tf(daemon, "plan", "deploy", "--json").json()["paused"] == []


def test_a_python_task_plan_checks_params_like_run(daemon: DaemonProcess) -> None:
    good = tf(daemon, "plan", "greet", "-p", "name=ops", "-p", "times=2", "--json").json()
    [node] = good["nodes"]
    assert node["python"] == "plantasks:greet" and node["params"] == {"name": "ops", "times": 2}
    assert node["wave"] == 1 and node["problem"] is None
    for params in ([], ["-p", "name=ops", "-p", "times=many"]):
        planned = tf(daemon, "plan", "greet", *params)
        ran = tf(daemon, "run", "greet", *params)
        assert planned.code == ran.code == 1
        assert planned.err == ran.err and planned.err.count("\n") == 1 and planned.out == ""
        assert planned.err.startswith("taskflow: greet: ")


def test_unknown_or_disabled_task_is_refused_in_one_sentence(daemon: DaemonProcess) -> None:
    unknown = tf(daemon, "plan", "nope")
    assert unknown.code == 1 and unknown.err == "taskflow: no task named 'nope'\n" and unknown.out == ""
    off = tf(daemon, "plan", "off")
    assert off.code == 1 and off.err == tf(daemon, "run", "off").err
    assert off.err.startswith("taskflow: task off is disabled")


def test_planning_one_node_says_its_dependencies_do_not_run(daemon: DaemonProcess) -> None:
    result = tf(daemon, "plan", "deploy/release")
    assert result.code == 0, result.err
    assert "1 node, 1 leaf; if every leaf succeeds 1 run in 1 wave" in result.out
    assert "depends on migrate, which a trigger of deploy/release alone neither runs nor waits for" in result.out


def test_planning_stores_nothing_and_audits_nothing(daemon: DaemonProcess) -> None:
    def snapshot() -> tuple[list[str], list[tuple[str, str]]]:
        runs = daemon.call(ListRuns(limit=10_000, roots_only=False))
        audit = daemon.call(ListAudit(limit=10_000))
        return [run.id for run in runs], [(entry.action, str(entry.at)) for entry in audit]

    before = snapshot()
    for args in (("deploy", "-p", "VERSION=2"), ("greet", "-p", "name=x"), ("greet",), ("nope",), ("big", "--json")):
        tf(daemon, "plan", *args, timeout=120)
    assert snapshot() == before


# Runs the CLI as another user: everything it loads is imported first, as root (the
# interpreter lives under /root), then the process drops to that user and connects.
AS_USER = """
import argparse, gettext, json, locale, os, shlex, sys, textwrap
import rich.console, rich.text, rich.tree
import taskflow.cli.connection, taskflow.cli.output, taskflow.cli.plan, taskflow.cli.plan_view, taskflow.cli.runs
import taskflow.client, taskflow.protocol.plan, taskflow.protocol.task_requests
from taskflow.cli.main import main
from taskflow.protocol import PLAN_PAGE, PlanTask, PlannedNode, TaskPlan, TriggerTask, RunRef
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([]); os.setgid(gid); os.setuid(uid)
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.skipif(os.getuid() != 0, reason="planning as another user needs root")
def test_a_viewer_may_plan_but_not_run(daemon: DaemonProcess) -> None:
    import pwd

    os.chmod(daemon.socket, 0o666)  # let the "daemon" user (in no taskflow group: a viewer) connect
    user = pwd.getpwnam("daemon")

    def as_viewer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", AS_USER, str(user.pw_uid), str(user.pw_gid), "--socket", daemon.socket, *args],
            capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"}, cwd="/tmp")

    planned = as_viewer("plan", "deploy", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["nodes_total"] == 6
    refused = as_viewer("run", "deploy")
    assert refused.returncode == 1 and "needs the operator role" in refused.stderr, refused.stderr
    assert "Traceback" not in planned.stderr + refused.stderr


def test_a_ten_thousand_node_plan_is_capped_in_text_and_whole_in_json(daemon: DaemonProcess) -> None:
    text = tf(daemon, "plan", "big", timeout=120)
    assert text.code == 0, text.err
    assert f"{BIG + 1:,} nodes, {BIG:,} leaves; if every leaf succeeds {BIG:,} run in 2 waves" in text.out
    assert f"… {BIG + 1 - 200:,} more nodes not drawn (taskflow plan big --all draws them, --json lists them)" \
        in text.out
    assert len(text.out.splitlines()) < 1000  # 200 nodes of a few lines each, not 10,000
    assert "wave 1  first" in text.out and f"+{BIG - 1 - 8:,} more" in text.out

    document = tf(daemon, "plan", "big", "--json", timeout=120).json()
    assert document["nodes_total"] == len(document["nodes"]) == BIG + 1
    assert document["next_offset"] is None and document["waves"] == [1, BIG - 1]
    first = document["nodes"][1]
    assert first["name"] == "big/first" and len(first["if_fails_skips"]) == 20 and first["if_fails_more"]

    # Each page stays within a frame and they join up in tree order.
    page = daemon.call(PlanTask(task="big", limit=5000))
    assert 0 < len(page.nodes) <= 2000 and page.next_offset == len(page.nodes)
    rest = daemon.call(PlanTask(task="big", offset=page.next_offset, limit=3))
    cut = page.next_offset
    assert [node.name for node in rest.nodes] == [node["name"] for node in document["nodes"][cut:cut + 3]]
