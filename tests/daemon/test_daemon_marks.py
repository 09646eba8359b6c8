"""``mark``: an operator marks a failed node succeeded or skipped and what waited on it runs,
against a real daemon — audited, kept across a crash, refused to viewers and to runs in flight."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time

import pytest

from taskflow.client import ClientError
from taskflow.model import Role, RunState, RunTree, SkipReason
from taskflow.protocol import ListAudit, Mark, ShowRun, TriggerTask

TREE = """
[tasks.deploy]
[tasks.deploy.children.a]
command = "echo a failed; exit 3"
[tasks.deploy.children.b]
command = "sleep $B_SLEEP; echo b ran"
depends_on = ["a"]

[tasks.long]
command = "sleep 30"
"""


def _node(tree: RunTree, task: str) -> RunTree:
    return next(node for node in tree.walk() if node.run.task == task)


def _failed_deploy(daemon, wait_terminal, b_sleep: float = 0) -> RunTree:
    daemon.write_tasks(TREE.replace("$B_SLEEP", str(b_sleep)))
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="deploy"))
        tree = wait_terminal(client, ref.id)
    assert tree.run.state is RunState.FAILED
    assert _node(tree, "deploy/a").run.state is RunState.FAILED
    b = _node(tree, "deploy/b").run
    assert (b.state, b.skip_reason) == (RunState.SKIPPED, SkipReason.UPSTREAM)
    return tree


def test_marking_the_failed_node_runs_its_dependent_and_the_tree_ends_succeeded(daemon, wait_terminal):
    tree = _failed_deploy(daemon, wait_terminal)
    a = _node(tree, "deploy/a").run
    with daemon.client() as client:
        marked = client.call(Mark(run_id=a.id, state=RunState.SUCCEEDED, reason="applied by hand"))
        assert marked.state is RunState.SUCCEEDED and marked.error_type is None
        assert (marked.marked_by, marked.marked_reason, marked.marked_from) == ("root", "applied by hand", RunState.FAILED)
        assert marked.marked_at is not None

        again = wait_terminal(client, tree.run.id)
        assert again.run.state is RunState.SUCCEEDED, again.run
        b = _node(again, "deploy/b")
        assert b.run.state is RunState.SUCCEEDED and b.run.id == _node(tree, "deploy/b").run.id  # same run
        assert len(b.attempts) == 1 and b.attempts[0].exit_code == 0
        a_after = _node(again, "deploy/a")
        assert a_after.run.state is RunState.SUCCEEDED and a_after.run.marked_by == "root"
        assert a_after.attempts[0].exit_code == 3  # what really happened is kept

        audit = client.call(ListAudit(limit=20))
    marks = [entry for entry in audit if entry.action == "mark"]
    assert len(marks) == 1
    assert marks[0].user == "root" and marks[0].outcome == "ok"
    assert marks[0].args == {"run_id": a.id, "state": "succeeded", "reason": "applied by hand"}


def test_marking_skipped_lets_the_dependent_run_too(daemon, wait_terminal):
    tree = _failed_deploy(daemon, wait_terminal)
    with daemon.client() as client:
        marked = client.call(Mark(run_id=_node(tree, "deploy/a").run.id, state=RunState.SKIPPED, reason="not needed"))
        assert (marked.state, marked.skip_reason) == (RunState.SKIPPED, SkipReason.MARKED)
        again = wait_terminal(client, tree.run.id)
    assert again.run.state is RunState.SUCCEEDED
    assert _node(again, "deploy/b").run.state is RunState.SUCCEEDED


def test_runs_in_flight_succeeded_or_unknown_are_refused_in_one_sentence(daemon, wait_terminal):
    tree = _failed_deploy(daemon, wait_terminal)
    with daemon.client() as client:
        long = client.call(TriggerTask(task="long"))
        deadline = time.monotonic() + 10
        while client.call(ShowRun(run_id=long.id)).run.state is not RunState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(ClientError) as running:
            client.call(Mark(run_id=long.id, state=RunState.SUCCEEDED, reason="x"))
        assert running.value.code == "conflict"
        assert running.value.message == f"run {long.id} (long) is still running; only an ended run can be marked"

        a = _node(tree, "deploy/a").run.id
        client.call(Mark(run_id=a, state=RunState.SUCCEEDED, reason="done by hand"))
        with pytest.raises(ClientError, match="already succeeded") as twice:
            client.call(Mark(run_id=a, state=RunState.SUCCEEDED, reason="again"))
        assert twice.value.code == "conflict"
        with pytest.raises(ClientError, match="is the group deploy") as group:
            client.call(Mark(run_id=tree.run.id, state=RunState.SUCCEEDED, reason="x"))
        assert group.value.code == "conflict"
        with pytest.raises(ClientError) as unknown:
            client.call(Mark(run_id="01JNOSUCHRUN0000000000000", state=RunState.SUCCEEDED, reason="x"))
        assert unknown.value.code == "not_found"
        with pytest.raises(ClientError, match="needs a reason") as no_reason:
            client.call(Mark(run_id=a, state=RunState.SKIPPED, reason="  "))
        assert no_reason.value.code == "bad_request"
        audit = client.call(ListAudit(limit=20))
    refused = [e for e in audit if e.action == "mark" and e.outcome != "ok"]
    assert len(refused) == 5  # refusals are audited as well


def test_a_mark_and_the_runs_it_released_survive_a_daemon_crash(daemon, wait_terminal):
    tree = _failed_deploy(daemon, wait_terminal, b_sleep=2)
    a = _node(tree, "deploy/a").run.id
    with daemon.client() as client:
        client.call(Mark(run_id=a, state=RunState.SUCCEEDED, reason="fixed on the host"))
        deadline = time.monotonic() + 10
        while _node(client.call(ShowRun(run_id=tree.run.id)), "deploy/b").run.state is not RunState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not client.call(ShowRun(run_id=tree.run.id)).run.state.terminal  # reopened
    daemon.kill()  # SIGKILL while the released run runs
    daemon.start()
    with daemon.client() as client:
        again = wait_terminal(client, tree.run.id, timeout=20)
    assert again.run.state is RunState.SUCCEEDED, again.run
    b = _node(again, "deploy/b")
    assert b.run.state is RunState.SUCCEEDED and len(b.attempts) == 1  # adopted, not started twice
    marked = _node(again, "deploy/a").run
    assert (marked.state, marked.marked_by, marked.marked_reason, marked.marked_from) == (
        RunState.SUCCEEDED, "root", "fixed on the host", RunState.FAILED)


MARK_AS = """
import os, sys
from taskflow.client import Client, ClientError
from taskflow.model import RunState
from taskflow.protocol import Mark
uid, gid, sock, run_id = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.setgroups([]); os.setgid(gid); os.setuid(uid)
with Client.connect(sock) as c:
    print("role", c.welcome.role)
    try:
        c.call(Mark(run_id=run_id, state=RunState.SUCCEEDED, reason="viewer tries")); print("ok")
    except ClientError as e:
        print("refused", e.code, e.message)
"""


@pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")
def test_a_viewer_may_not_mark_and_the_refusal_is_audited(daemon, wait_terminal):
    config = daemon.workdir / "taskflow.toml"
    operator_group = os.popen("id -gn nobody").read().strip()
    config.write_text(f'operator_group = "{operator_group}"\nsocket_group = "root"\n')
    daemon.extra_args = ["--config", str(config)]
    tree = _failed_deploy(daemon, wait_terminal)
    os.chmod(daemon.socket, 0o666)
    a = _node(tree, "deploy/a").run.id
    entry = pwd.getpwnam("daemon")
    out = subprocess.run([sys.executable, "-c", MARK_AS, str(entry.pw_uid), str(entry.pw_gid), daemon.socket, a],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == [f"role {Role.VIEWER}", "refused forbidden mark needs the operator role; daemon is a viewer"]
    with daemon.client() as client:
        assert _node(client.call(ShowRun(run_id=tree.run.id)), "deploy/a").run.state is RunState.FAILED
        audit = client.call(ListAudit(limit=10))
    refused = [e for e in audit if e.action == "mark"]
    assert [(e.user, e.outcome) for e in refused] == [("daemon", "mark needs the operator role; daemon is a viewer")]


def test_marking_while_the_tree_still_runs_releases_into_the_live_tree(daemon, wait_terminal):
    daemon.write_tasks("""
        [tasks.site]
        [tasks.site.children.a]
        command = "exit 1"
        [tasks.site.children.b]
        command = "echo b"
        depends_on = ["a"]
        [tasks.site.children.slow]
        command = "sleep 2"
        """)
    daemon.extra_args = ["--max-workers", "1"]  # slot accounting must survive the re-add
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="site"))
        deadline = time.monotonic() + 10
        while True:
            tree = client.call(ShowRun(run_id=ref.id))
            if _node(tree, "site/b").run.state is RunState.SKIPPED and _node(tree, "site/slow").run.state is RunState.RUNNING:
                break
            assert time.monotonic() < deadline, tree
            time.sleep(0.05)
        client.call(Mark(run_id=_node(tree, "site/a").run.id, state=RunState.SUCCEEDED, reason="fine"))
        assert _node(client.call(ShowRun(run_id=ref.id)), "site/b").run.state in (RunState.PENDING, RunState.QUEUED)
        done = wait_terminal(client, ref.id)
    assert done.run.state is RunState.SUCCEEDED, done.run
    assert [node.run.state for node in done.children] == [RunState.SUCCEEDED] * 3
    b, slow = _node(done, "site/b"), _node(done, "site/slow")
    assert b.attempts[0].started_at >= slow.attempts[0].finished_at  # one worker: b waited for the slot
