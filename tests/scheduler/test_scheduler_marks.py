"""Marking an ended run succeeded or skipped (``decision.marking``): what it releases and
reopens, and how the scheduler then drives the tree, played by hand on small trees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from taskflow.engine.decision.marking import MarkRefused, plan_mark, upstream_message
from taskflow.engine.decision.runtree import PlannedRun, plan_run_tree, to_sched_runs
from taskflow.engine.decision.scheduler import Scheduler
from taskflow.model import Dependency, RunState, SkipReason, TaskSpec

S = RunState
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def leaf(name: str, *deps: str, optional: tuple[str, ...] = ()) -> TaskSpec:
    depends = tuple(Dependency(d) for d in deps) + tuple(Dependency(d, required=False) for d in optional)
    return TaskSpec(name=name, kind="command", command="true", depends_on=depends)


def group(name: str, *children: str, deps: tuple[str, ...] = ()) -> TaskSpec:
    return TaskSpec(name=name, kind="group", children=children, depends_on=tuple(Dependency(d) for d in deps))


def planned_tree(*specs: TaskSpec, **states: tuple[RunState, SkipReason | None] | RunState) -> dict[str, PlannedRun]:
    """The planned runs of the first spec's tree, by task name, in the given end states."""
    tasks = {spec.name: spec for spec in specs}
    out = {p.spec.name: p for p in plan_run_tree(tasks, specs[0].name, now=NOW)}
    for name, state in states.items():
        task = name.replace("__", "/")
        run = out[task].run
        run.state, run.skip_reason = state if isinstance(state, tuple) else (state, None)
        if run.state is S.SKIPPED and run.skip_reason is SkipReason.UPSTREAM:
            run.message = "required dependency deploy/a did not succeed"
    return out


def deploy_failed() -> dict[str, PlannedRun]:
    """deploy{a, b needs a}: a failed, so b was skipped and deploy failed."""
    return planned_tree(
        group("deploy", "deploy/a", "deploy/b"), leaf("deploy/a"), leaf("deploy/b", "deploy/a"),
        deploy=S.FAILED, deploy__a=S.FAILED, deploy__b=(S.SKIPPED, SkipReason.UPSTREAM),
    )


def reopen(tree: dict[str, PlannedRun], plan, now: float = 10.0) -> tuple[Scheduler, dict[str, str]]:
    """Apply ``plan`` to the runs as the ledger does and hand the tree to a fresh scheduler."""
    by_id = {p.run.id: p.run for p in tree.values()}
    target = by_id[plan.target]
    target.state = plan.state
    target.skip_reason = SkipReason.MARKED if plan.state is S.SKIPPED else None
    for rid in plan.released:
        by_id[rid].state, by_id[rid].skip_reason = S.PENDING, None
    for rid in plan.reopened:
        by_id[rid].state = S.RUNNING
    sched = Scheduler(4)
    sched.add(to_sched_runs(list(tree.values()), 0), now)
    return sched, {p.spec.name: p.run.id for p in tree.values()}


def test_marking_the_failed_run_releases_its_skipped_dependent_and_reopens_the_group():
    tree = deploy_failed()
    a, b, deploy = (tree[name].run.id for name in ("deploy/a", "deploy/b", "deploy"))
    plan = plan_mark(list(tree.values()), a, S.SUCCEEDED)
    assert plan.released == (b,) and plan.reopened == (deploy,)

    sched, _ = reopen(tree, plan)
    assert sched.get(b).state is S.QUEUED and sched.get(deploy).state is S.RUNNING
    started, _ = sched.take(11.0)
    assert [run.id for run in started] == [b]
    out = sched.finished(b, S.SUCCEEDED, 12.0)
    assert (deploy, S.SUCCEEDED) in [(t.run_id, t.state) for t in out]  # its only failure was marked


def test_a_dependent_with_another_failed_requirement_stays_skipped_and_says_why():
    tree = planned_tree(
        group("deploy", "deploy/a", "deploy/c", "deploy/b"), leaf("deploy/a"), leaf("deploy/c"),
        leaf("deploy/b", "deploy/a", "deploy/c"),
        deploy=S.FAILED, deploy__a=S.FAILED, deploy__c=S.FAILED, deploy__b=(S.SKIPPED, SkipReason.UPSTREAM),
    )
    b = tree["deploy/b"].run.id
    plan = plan_mark(list(tree.values()), tree["deploy/a"].run.id, S.SUCCEEDED)
    assert plan.released == ()
    assert plan.messages == {b: upstream_message("deploy/c")}
    sched, _ = reopen(tree, plan)
    assert sched.is_tree_done(tree["deploy"].run.id)
    assert sched.get(tree["deploy"].run.id).state is S.FAILED  # deploy/c still failed


def test_marked_skipped_counts_as_done_for_dependents_and_the_group():
    tree = deploy_failed()
    a, b, deploy = (tree[name].run.id for name in ("deploy/a", "deploy/b", "deploy"))
    plan = plan_mark(list(tree.values()), a, S.SKIPPED)
    assert plan.released == (b,)
    sched, _ = reopen(tree, plan)
    assert [run.id for run in sched.take(11.0)[0]] == [b]
    out = sched.finished(b, S.SUCCEEDED, 12.0)
    assert (deploy, S.SUCCEEDED) in [(t.run_id, t.state) for t in out]


def test_a_group_ended_by_the_mark_alone_is_decided_at_once():
    tree = planned_tree(group("deploy", "deploy/a"), leaf("deploy/a"), deploy=S.FAILED, deploy__a=S.INTERRUPTED)
    plan = plan_mark(list(tree.values()), tree["deploy/a"].run.id, S.SUCCEEDED)
    assert plan.released == () and plan.reopened == (tree["deploy"].run.id,)
    sched = Scheduler(4)
    tree["deploy/a"].run.state = S.SUCCEEDED
    tree["deploy"].run.state = S.RUNNING
    out = sched.add(to_sched_runs(list(tree.values()), 0), 10.0)
    assert [(t.run_id, t.state) for t in out] == [(tree["deploy"].run.id, S.SUCCEEDED)]


def test_dependents_of_a_reopened_group_wait_for_it_again():
    # site{deploy{a, b needs a}, notify needs deploy}: a failed → b, then notify, skipped.
    tree = planned_tree(
        group("site", "site/deploy", "site/notify"),
        group("site/deploy", "site/deploy/a", "site/deploy/b"),
        leaf("site/deploy/a"), leaf("site/deploy/b", "site/deploy/a"), leaf("site/notify", "site/deploy"),
        site=S.FAILED, site__deploy=S.FAILED, site__deploy__a=S.FAILED,
        site__deploy__b=(S.SKIPPED, SkipReason.UPSTREAM), site__notify=(S.SKIPPED, SkipReason.UPSTREAM),
    )
    ids = {name: p.run.id for name, p in tree.items()}
    plan = plan_mark(list(tree.values()), ids["site/deploy/a"], S.SUCCEEDED)
    assert set(plan.released) == {ids["site/deploy/b"], ids["site/notify"]}
    assert plan.reopened == (ids["site/deploy"], ids["site"])

    sched, _ = reopen(tree, plan)
    assert sched.get(ids["site/notify"]).state is S.PENDING  # waits for deploy to be decided
    assert [run.id for run in sched.take(11.0)[0]] == [ids["site/deploy/b"]]
    sched.finished(ids["site/deploy/b"], S.SUCCEEDED, 12.0)
    assert sched.get(ids["site/deploy"]).state is S.SUCCEEDED
    assert [run.id for run in sched.take(12.0)[0]] == [ids["site/notify"]]
    out = sched.finished(ids["site/notify"], S.SUCCEEDED, 13.0)
    assert (ids["site"], S.SUCCEEDED) in [(t.run_id, t.state) for t in out]


def test_a_released_group_takes_the_part_of_its_subtree_skipped_with_it():
    # site{a, stage needs a {x}}: a failed → stage and stage/x skipped upstream.
    tree = planned_tree(
        group("site", "site/a", "site/stage"), leaf("site/a"),
        group("site/stage", "site/stage/x", deps=("site/a",)), leaf("site/stage/x"),
        site=S.FAILED, site__a=S.FAILED, site__stage=(S.SKIPPED, SkipReason.UPSTREAM),
        site__stage__x=(S.SKIPPED, SkipReason.UPSTREAM),
    )
    ids = {name: p.run.id for name, p in tree.items()}
    plan = plan_mark(list(tree.values()), ids["site/a"], S.SUCCEEDED)
    assert plan.released == (ids["site/stage"], ids["site/stage/x"])
    sched, _ = reopen(tree, plan)
    assert [run.id for run in sched.take(11.0)[0]] == [ids["site/stage/x"]]


@pytest.mark.parametrize(
    ("name", "state", "message"),
    [
        ("deploy", S.SUCCEEDED, "is the group deploy"),
        ("deploy/b", S.SUCCEEDED, None),  # a skipped run may be marked
    ],
)
def test_groups_are_refused_and_skipped_runs_may_be_marked(name, state, message):
    tree = deploy_failed()
    if message is None:
        plan_mark(list(tree.values()), tree[name].run.id, state)
    else:
        with pytest.raises(MarkRefused, match=message):
            plan_mark(list(tree.values()), tree[name].run.id, state)


def test_runs_in_flight_succeeded_or_in_a_skipped_group_are_refused():
    tree = deploy_failed()
    runs = list(tree.values())
    tree["deploy/a"].run.state = S.RUNNING
    with pytest.raises(MarkRefused, match="is still running; only an ended run can be marked"):
        plan_mark(runs, tree["deploy/a"].run.id, S.SUCCEEDED)
    tree["deploy/a"].run.state = S.SUCCEEDED
    with pytest.raises(MarkRefused, match="already succeeded"):
        plan_mark(runs, tree["deploy/a"].run.id, S.SUCCEEDED)
    with pytest.raises(MarkRefused, match="succeeded or skipped, not failed"):
        plan_mark(runs, tree["deploy/b"].run.id, S.FAILED)

    skipped = planned_tree(
        group("site", "site/a", "site/stage"), leaf("site/a"),
        group("site/stage", "site/stage/x", deps=("site/a",)), leaf("site/stage/x"),
        site=S.FAILED, site__a=S.FAILED, site__stage=(S.SKIPPED, SkipReason.UPSTREAM),
        site__stage__x=(S.SKIPPED, SkipReason.UPSTREAM),
    )
    with pytest.raises(MarkRefused, match="inside site/stage, which was skipped; mark what site/stage depends on"):
        plan_mark(list(skipped.values()), skipped["site/stage/x"].run.id, S.SUCCEEDED)
