"""Run trees end to end: dependencies, skips, group state, disabled tasks."""

from __future__ import annotations

import pytest

from taskflow.engine.errors import EngineError
from taskflow.model import RunState, SkipReason


async def test_failed_dependency_skips_required_but_not_optional_or_independent(make_engine):
    h = await make_engine(
        """
        [tasks.tree]
        [tasks.tree.children.a]
        command = "echo a; exit 1"
        [tasks.tree.children.b]
        command = "echo b"
        depends_on = ["a"]
        [tasks.tree.children.c]
        command = "echo c"
        depends_on = [{ task = "a", required = false }]
        [tasks.tree.children.d]
        command = "echo d"
        """
    )
    root = await h.engine.trigger("tree")
    tree = await h.wait(root.id)
    by_task = {node.run.task: node for node in tree.walk()}
    assert by_task["tree/a"].run.state is RunState.FAILED
    assert by_task["tree/a"].run.error_type == "exit"
    assert by_task["tree/b"].run.state is RunState.SKIPPED
    assert by_task["tree/b"].run.skip_reason is SkipReason.UPSTREAM
    assert by_task["tree/b"].attempts == []
    assert by_task["tree/c"].run.state is RunState.SUCCEEDED
    assert by_task["tree/d"].run.state is RunState.SUCCEEDED
    assert tree.run.state is RunState.FAILED
    # c waited for a (optional dependencies still order)
    assert by_task["tree/c"].run.started_at >= by_task["tree/a"].run.finished_at


async def test_rollback_runs_only_when_something_failed(make_engine):
    h = await make_engine(
        """
        [tasks.deploy]
        [tasks.deploy.children.release]
        command = "test -e $WORK/broken && exit 3 || true"
        [tasks.deploy.children.rollback]
        command = "echo rolling back"
        depends_on = ["release"]
        run_if = "any_failed"
        """
    )
    good = await h.wait((await h.engine.trigger("deploy")).id)
    nodes = {n.run.task: n.run for n in good.walk()}
    assert nodes["deploy/rollback"].state is RunState.SKIPPED
    assert nodes["deploy/rollback"].skip_reason is SkipReason.CONDITION
    assert good.run.state is RunState.SUCCEEDED

    (h.workdir / "broken").touch()
    bad = await h.wait((await h.engine.trigger("deploy")).id)
    nodes = {n.run.task: n.run for n in bad.walk()}
    assert nodes["deploy/release"].state is RunState.FAILED
    assert nodes["deploy/rollback"].state is RunState.SUCCEEDED
    assert bad.run.state is RunState.FAILED  # a deploy whose rollback ran is a failed deploy


async def test_disabled_task_is_refused_and_disabled_child_is_skipped(make_engine):
    h = await make_engine(
        """
        [tasks.job]
        command = "true"
        [tasks.tree]
        [tasks.tree.children.one]
        command = "true"
        [tasks.tree.children.two]
        command = "true"
        """
    )
    await h.engine.set_enabled("job", False, "maintenance window", "alice")
    with pytest.raises(EngineError) as refused:
        await h.engine.trigger("job")
    assert refused.value.code == "conflict"
    assert "disabled" in refused.value.message and "maintenance window" in refused.value.message

    await h.engine.set_enabled("tree/two", False, None, "alice")
    tree = await h.wait((await h.engine.trigger("tree")).id)
    nodes = {n.run.task: n.run for n in tree.walk()}
    assert nodes["tree/one"].state is RunState.SUCCEEDED
    assert nodes["tree/two"].state is RunState.SKIPPED
    assert tree.run.state is RunState.SUCCEEDED

    with pytest.raises(EngineError) as unknown:
        await h.engine.trigger("nope")
    assert unknown.value.code == "not_found"


async def test_single_node_of_a_tree_runs_without_its_dependencies(make_engine):
    h = await make_engine(
        """
        [tasks.nightly]
        [tasks.nightly.children.backup]
        command = "exit 1"
        [tasks.nightly.children.verify]
        command = "echo verified"
        depends_on = ["backup"]
        """
    )
    tree = await h.wait((await h.engine.trigger("nightly/verify")).id)
    assert tree.run.task == "nightly/verify"
    assert tree.run.state is RunState.SUCCEEDED
    assert tree.children == []


async def test_cancel_kills_running_leaves_and_cancels_the_rest(make_engine):
    h = await make_engine(
        """
        [tasks.tree]
        [tasks.tree.children.slow]
        command = "sleep 30"
        [tasks.tree.children.after]
        command = "true"
        depends_on = ["slow"]
        """
    )
    root = await h.engine.trigger("tree")
    for _ in range(100):
        if any(a.run.state is RunState.RUNNING and a.handle for a in h.engine.active.values()):
            break
        import asyncio

        await asyncio.sleep(0.05)
    await h.engine.cancel(root.id, requested_by="bob")
    tree = await h.wait(root.id, timeout=15)
    nodes = {n.run.task: n.run for n in tree.walk()}
    assert tree.run.state is RunState.CANCELLED
    assert nodes["tree/slow"].state is RunState.CANCELLED
    assert nodes["tree/after"].state is RunState.CANCELLED


async def test_rerun_failed_only_keeps_earlier_successes(make_engine):
    h = await make_engine(
        """
        [tasks.tree]
        [tasks.tree.children.ok]
        command = "echo x >> $WORK/ok-count"
        [tasks.tree.children.flaky]
        command = "test -e $WORK/fixed"
        """
    )
    first = await h.wait((await h.engine.trigger("tree")).id)
    assert first.run.state is RunState.FAILED
    (h.workdir / "fixed").touch()
    second = await h.wait((await h.engine.rerun(first.run.id, failed_only=True)).id)
    assert second.run.state is RunState.SUCCEEDED
    assert (h.workdir / "ok-count").read_text().count("x") == 1


async def test_children_are_shown_in_file_order(make_engine):
    names = ["zeta", "alpha", "mid", "beta"]
    children = "\n".join(f'[tasks.tree.children.{n}]\ncommand = "true"' for n in names)
    h = await make_engine(f"[tasks.tree]\n{children}\n")
    tree = await h.wait((await h.engine.trigger("tree")).id)
    assert [child.run.task for child in tree.children] == [f"tree/{n}" for n in names]


async def test_trigger_params_reach_command_tasks_as_environment(make_engine):
    h = await make_engine(
        """
        [tasks.deploy]
        command = "echo $TASKFLOW_PARAM_VERSION $TASKFLOW_PARAM_DRY_RUN $TASKFLOW_PARAM_REGION"
        params = { region = "eu-west-1" }
        """
    )
    root = await h.engine.trigger("deploy", {"version": "1.4.2", "dry-run": True})
    tree = await h.wait(root.id)
    from pathlib import Path

    assert (Path(tree.attempts[0].output_dir) / "stdout").read_text() == "1.4.2 true eu-west-1\n"
