"""``plan_order``: what a trigger would run, in waves, decided without running it.

Examples by hand (a deploy with a rollback, a disabled child, nested groups), then a
property: on random trees, the plan agrees with the real ``Scheduler`` played with every
leaf succeeding (same skips, each leaf started at its wave), and a failure of one leaf
skips — and runs instead — exactly what the plan said.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from taskflow.engine.decision.plan import FAILURE_NAMES, TreeOrder, plan_order
from taskflow.engine.decision.runtree import plan_run_tree, to_sched_runs
from taskflow.engine.decision.scheduler import Scheduler
from taskflow.model import Dependency, RunState, TaskSpec

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def tree(root: str, nodes: dict[str, dict]) -> dict[str, TaskSpec]:
    """Specs of a tree: ``nodes`` maps ``a/b`` paths below ``root`` to TaskSpec fields;
    ``depends_on`` may name siblings by short name, ``(name, False)`` for optional ones."""
    children: dict[str, list[str]] = {root: []}
    for path in nodes:
        full = f"{root}/{path}"
        children.setdefault(full, [])
        children[full.rsplit("/", 1)[0]].append(full)
    specs: dict[str, TaskSpec] = {}
    for full, kids in children.items():
        fields = dict(nodes.get(full.removeprefix(root + "/"), {})) if full != root else {}
        parent = full.rsplit("/", 1)[0] if "/" in full else None
        deps = tuple(
            Dependency(f"{parent}/{d}" if isinstance(d, str) else f"{parent}/{d[0]}",
                       True if isinstance(d, str) else d[1])
            for d in fields.pop("depends_on", ())
        )
        specs[full] = TaskSpec(
            name=full, kind="group" if kids else "command", command=None if kids else "true",
            children=tuple(kids), parent=parent, depends_on=deps, **fields,
        )
    return specs


def by_name(order: TreeOrder) -> dict[str, object]:
    return {step.name: step for step in order.steps}


DEPLOY = tree("deploy", {
    "build": {},
    "migrate": {"depends_on": ["build"]},
    "release": {"depends_on": ["migrate"]},
    "check": {"depends_on": ["release"]},
    "rollback": {"run_if": "any_failed", "depends_on": [("release", False), ("check", False)]},
    "notify": {"depends_on": [("check", False), ("rollback", False)]},
    "docs": {},
})


def test_deploy_waves_rollback_only_on_failure_and_what_a_failure_skips() -> None:
    order = plan_order(DEPLOY, "deploy")
    steps = by_name(order)
    assert [s.name for s in order.steps][:3] == ["deploy", "deploy/build", "deploy/migrate"]
    waves = {name.removeprefix("deploy/"): s.wave for name, s in steps.items() if s.wave}
    assert waves == {"build": 1, "docs": 1, "migrate": 2, "release": 3, "check": 4, "notify": 5}
    assert order.waves == [2, 1, 1, 1, 1]
    rollback = steps["deploy/rollback"]
    assert not rollback.runs and rollback.wave is None
    assert rollback.skip == "runs only if a dependency fails (release, check)"
    build = steps["deploy/build"]
    assert build.if_fails_skips == ["migrate", "release", "check"]
    assert build.if_fails_runs == ["rollback"]
    assert steps["deploy/check"].if_fails_skips == [] and steps["deploy/check"].if_fails_runs == ["rollback"]
    assert steps["deploy/docs"].if_fails_skips == [] and steps["deploy/notify"].runs


def test_disabled_child_skips_its_subtree_and_its_required_dependents() -> None:
    specs = tree("nightly", {
        "backup": {},
        "backup/db": {},
        "backup/files": {},
        "verify": {"depends_on": ["backup"]},
        "vacuum": {"depends_on": [("backup", False)]},
    })
    order = plan_order(specs, "nightly", disabled=lambda n: "maintenance window" if n == "nightly/backup" else None)
    steps = by_name(order)
    assert steps["nightly/backup"].skip == "disabled: maintenance window"
    assert steps["nightly/backup/db"].skip == "group nightly/backup is disabled"
    assert steps["nightly/verify"].skip == "required dependency backup would be skipped"
    assert steps["nightly/vacuum"].runs and steps["nightly/vacuum"].wave == 1
    assert order.waves == [1] and order.leaves == 4 and order.running_leaves == 1


def test_nested_group_waits_for_its_dependency_and_a_triggered_leaf_is_wave_one() -> None:
    specs = tree("etl", {"extract": {}, "load": {"depends_on": ["extract"]},
                         "load/a": {}, "load/b": {"depends_on": ["a"]}})
    steps = by_name(plan_order(specs, "etl"))
    assert [steps[n].wave for n in ("etl/extract", "etl/load/a", "etl/load/b")] == [1, 2, 3]
    assert steps["etl/load"].wave is None and steps["etl/load"].runs  # groups have no wave
    assert steps["etl/extract"].if_fails_skips == ["load"]
    one = plan_order(specs, "etl/load/b")
    assert [(s.name, s.wave) for s in one.steps] == [("etl/load/b", 1)]


def test_failure_lists_stop_at_their_limit() -> None:
    nodes: dict[str, dict] = {"n0": {}}
    for i in range(1, FAILURE_NAMES + 10):
        nodes[f"n{i}"] = {"depends_on": [f"n{i - 1}"]}
    first = by_name(plan_order(tree("chain", nodes), "chain"))["chain/n0"]
    assert len(first.if_fails_skips) == FAILURE_NAMES and first.if_fails_more


# --- the plan agrees with the scheduler --------------------------------------------------


@st.composite
def random_trees(draw: st.DrawFn) -> tuple[dict[str, TaskSpec], set[str]]:
    nodes: dict[str, dict] = {}

    def siblings(prefix: str, depth: int) -> None:
        names = [f"t{i}" for i in range(draw(st.integers(1, 4)))]
        for i, name in enumerate(names):
            earlier = draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
            deps = [d if draw(st.booleans()) else (d, False) for d in earlier]
            fields: dict = {"depends_on": deps}
            if deps and draw(st.integers(0, 3)) == 0:
                fields["run_if"] = "any_failed"
            nodes[prefix + name] = fields
            if depth < 2 and draw(st.integers(0, 3)) == 0:
                siblings(prefix + name + "/", depth + 1)

    siblings("", 0)
    specs = tree("r", nodes)
    disabled = {name for name in specs if name != "r" and draw(st.integers(0, 7)) == 0}
    return specs, disabled


def play(specs: dict[str, TaskSpec], disabled: set[str], failing: str | None = None) -> dict[str, tuple[RunState, int | None]]:
    """The real scheduler with unlimited workers, each leaf one time unit: every task's end
    state and the tick it started at (+1: its wave)."""
    planned = plan_run_tree(specs, "r", now=NOW, is_enabled=lambda n: n not in disabled)
    runs = to_sched_runs(planned, 0)
    task_of = {run.id: run.task for run in runs}
    sched = Scheduler(10**6)
    sched.add(runs, 0.0)
    started_at: dict[str, int] = {}
    tick = 0
    while True:
        started, _ = sched.take(float(tick))
        if not started and sched.is_tree_done(runs[0].id):
            break
        for run in started:
            started_at[run.task] = tick + 1
        tick += 1
        for run in started:
            sched.finished(run.id, RunState.FAILED if run.task == failing else RunState.SUCCEEDED, float(tick))
        assert tick < 100
    return {task_of[r.id]: (sched.get(r.id).state, started_at.get(task_of[r.id])) for r in runs}


@settings(max_examples=200, deadline=None)
@given(random_trees())
def test_plan_matches_the_scheduler_on_the_happy_path(case: tuple[dict[str, TaskSpec], set[str]]) -> None:
    specs, disabled = case
    order = plan_order(specs, "r", disabled=lambda n: "" if n in disabled else None)
    played = play(specs, disabled)
    for step in order.steps:
        state, wave = played[step.name]
        assert step.runs == (state is not RunState.SKIPPED), (step, state)
        if not step.is_group:
            assert step.wave == wave, (step, wave)


@settings(max_examples=200, deadline=None)
@given(random_trees(), st.data())
def test_a_failure_skips_and_runs_what_the_plan_said(case: tuple[dict[str, TaskSpec], set[str]], data: st.DataObject) -> None:
    specs, disabled = case
    order = plan_order(specs, "r", disabled=lambda n: "" if n in disabled else None)
    leaves = [s for s in order.steps if s.runs and not s.is_group]
    if not leaves:
        return
    failing = data.draw(st.sampled_from(leaves))
    happy, failed = play(specs, disabled), play(specs, disabled, failing.name)
    parent = failing.parent
    siblings = {s.name.rsplit("/", 1)[-1]: s.name for s in order.steps if s.parent == parent and s is not failing}
    skipped = {short for short, full in siblings.items()
               if happy[full][0] is not RunState.SKIPPED and failed[full][0] is RunState.SKIPPED}
    ran = {short for short, full in siblings.items()
           if happy[full][0] is RunState.SKIPPED and failed[full][0] is not RunState.SKIPPED}
    assert set(failing.if_fails_skips) == skipped
    assert set(failing.if_fails_runs) == ran


def test_a_group_after_a_disabled_sibling_is_skipped_even_with_a_disabled_child() -> None:
    """Once a quirk: ``add`` took the group's disabled child for a child that had "moved on"
    in a restored tree, and ran the group despite its skipped required dependency."""
    specs = tree("r", {"off": {}, "g": {"depends_on": ["off"]}, "g/quiet": {}, "g/work": {}})
    disabled = {"r/off", "r/g/quiet"}
    played = play(specs, disabled)
    assert played["r/g"][0] is RunState.SKIPPED and played["r/g/work"] == (RunState.SKIPPED, None)
    steps = by_name(plan_order(specs, "r", disabled=lambda n: "" if n in disabled else None))
    assert not steps["r/g"].runs and not steps["r/g/work"].runs
