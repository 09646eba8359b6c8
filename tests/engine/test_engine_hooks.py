"""Pre- and post-run hooks: reject, adjust params, observe; a broken hook never fails a run."""

from __future__ import annotations

import pytest

import taskflow
from taskflow.engine.errors import EngineError
from taskflow.model import RunState
from taskflow.pytask.hooks import remove_hook


@pytest.fixture
def hooks():
    registered = []

    def add(kind, fn):
        registered.append(kind(fn))
        return fn

    yield add
    for fn in registered:
        remove_hook(fn)


async def test_pre_run_hook_rejects_or_adjusts_and_post_run_sees_the_result(make_engine, hooks):
    finished = []

    def gate(spec, params):
        if spec.name == "deploy" and params.get("env") == "prod":
            raise taskflow.RunRejected("prod deploys are frozen this week")
        if spec.name == "deploy":
            return {**params, "env": params.get("env", "staging")}
        return None

    def broken(spec, params):
        raise RuntimeError("hook bug")

    hooks(taskflow.pre_run, gate)
    hooks(taskflow.pre_run, broken)
    hooks(taskflow.post_run, lambda run: finished.append((run.task, run.state)))
    hooks(taskflow.post_run, lambda run: 1 / 0)

    h = await make_engine('[tasks.deploy]\ncommand = "true"\n')
    with pytest.raises(EngineError) as refused:
        await h.engine.trigger("deploy", {"env": "prod"})
    assert "frozen" in refused.value.message

    root = await h.engine.trigger("deploy")
    assert root.params == {"env": "staging"}
    tree = await h.wait(root.id)
    assert tree.run.state is RunState.SUCCEEDED
    assert ("deploy", RunState.SUCCEEDED) in finished


def test_example_plugin_registers_its_hooks():
    import importlib.util
    from pathlib import Path

    from taskflow.pytask.hooks import post_run_hooks, pre_run_hooks

    path = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "guardrails.py"
    spec = importlib.util.spec_from_file_location("guardrails_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        assert module.no_friday_deploys in pre_run_hooks()
        assert module.log_failures in post_run_hooks()
    finally:
        remove_hook(module.no_friday_deploys)
        remove_hook(module.log_failures)
