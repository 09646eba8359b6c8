"""Retries, worker limits, pools, breakers and timeouts, observed from real processes."""

from __future__ import annotations

import asyncio

import psutil

from taskflow.model import BreakerStatus, RunState

COUNTING_TASK = (
    'mkdir -p $WORK/running && touch $WORK/running/$TASKFLOW_RUN_ID && '
    'ls $WORK/running | wc -l >> $WORK/counts && sleep 0.4 && rm $WORK/running/$TASKFLOW_RUN_ID'
)


async def test_retries_make_four_attempts_with_growing_jittered_delays(make_engine):
    h = await make_engine(
        """
        [tasks.always_fails]
        command = "exit 7"
        retries = { max = 3, backoff = "0.3s", max_backoff = "10s", jitter = 0.2 }
        """
    )
    tree = await h.wait((await h.engine.trigger("always_fails")).id, timeout=30)
    assert tree.run.state is RunState.FAILED
    assert tree.run.error_type == "exit" and tree.run.exit_code == 7
    attempts = tree.attempts
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    gaps = [
        (attempts[i + 1].started_at - attempts[i].finished_at).total_seconds() for i in range(3)
    ]
    for i, gap in enumerate(gaps):
        nominal = 0.3 * 2**i
        assert nominal * 0.8 - 0.05 <= gap <= nominal * 1.2 + 0.5, (i, gap, gaps)
    assert gaps[0] < gaps[2]
    assert "retrying" in h.states_seen(tree.run.id)


async def test_max_workers_two_is_never_exceeded_as_seen_by_the_tasks(make_engine):
    children = "\n".join(
        f'[tasks.batch.children.job{i}]\ncommand = "{COUNTING_TASK}"' for i in range(6)
    )
    h = await make_engine(f"[tasks.batch]\n{children}\n", max_workers=2)
    tree = await h.wait((await h.engine.trigger("batch")).id)
    assert tree.run.state is RunState.SUCCEEDED
    counts = [int(line) for line in (h.workdir / "counts").read_text().split()]
    assert len(counts) == 6
    assert max(counts) <= 2
    assert max(counts) == 2  # the limit is used, not just respected


async def test_pool_limits_concurrency_below_max_workers(make_engine):
    children = "\n".join(
        f'[tasks.batch.children.job{i}]\npool = "db"\ncommand = "{COUNTING_TASK}"' for i in range(4)
    )
    h = await make_engine(f"pools = {{ db = 1 }}\n[tasks.batch]\n{children}\n", max_workers=4)
    tree = await h.wait((await h.engine.trigger("batch")).id)
    assert tree.run.state is RunState.SUCCEEDED
    counts = [int(line) for line in (h.workdir / "counts").read_text().split()]
    assert max(counts) == 1


async def test_breaker_opens_blocks_probes_and_closes(make_engine):
    h = await make_engine(
        """
        [services.api]
        breaker = { failures = 3, cooldown = "1s" }

        [tasks.call_api]
        service = "api"
        command = "sleep 0.3; test ! -e $WORK/down"
        """
    )
    (h.workdir / "down").touch()
    for _ in range(3):
        tree = await h.wait((await h.engine.trigger("call_api")).id)
        assert tree.run.state is RunState.FAILED
    [breaker] = [b for b in h.engine.board.states() if b.service == "api"]
    assert breaker.status is BreakerStatus.OPEN

    (h.workdir / "down").unlink()
    runs = [await h.engine.trigger("call_api") for _ in range(3)]
    await asyncio.sleep(0.2)
    assert "blocked" in h.states_seen(runs[0].id)
    trees = [await h.wait(r.id, timeout=20) for r in runs]
    assert all(t.run.state is RunState.SUCCEEDED for t in trees)
    first = min(trees, key=lambda t: t.run.started_at)
    others = [t for t in trees if t is not first]
    # one probe ran alone; the rest started only after it closed the breaker
    assert all(t.run.started_at >= first.run.finished_at for t in others)
    [breaker] = [b for b in h.engine.board.states() if b.service == "api"]
    assert breaker.status is BreakerStatus.CLOSED
    stored = {b.service: b for b in await h.engine.store.breakers()}
    assert stored["api"].status is BreakerStatus.CLOSED


async def test_a_probe_refused_before_it_began_frees_the_probe_slot(make_engine):
    """A half-open breaker's probe that could not start (no such user) says nothing about
    the service: the slot goes back and the next run probes, instead of waiting forever."""
    h = await make_engine(
        """
        [services.api]
        breaker = { failures = 1, cooldown = "0.5s" }

        [tasks.call_api]
        service = "api"
        command = "exit 1"

        [tasks.as_nobody_known]
        service = "api"
        user = "taskflow-no-such-user"
        command = "true"

        [tasks.healthy]
        service = "api"
        command = "true"
        """
    )
    assert (await h.wait((await h.engine.trigger("call_api")).id)).run.state is RunState.FAILED
    await asyncio.sleep(0.6)  # past the cooldown: the next admitted run is the probe
    refused = await h.wait((await h.engine.trigger("as_nobody_known")).id)
    assert refused.run.state is RunState.FAILED and refused.run.error_type == "config"
    tree = await h.wait((await h.engine.trigger("healthy")).id, timeout=10)
    assert tree.run.state is RunState.SUCCEEDED
    [breaker] = [b for b in h.engine.board.states() if b.service == "api"]
    assert breaker.status is BreakerStatus.CLOSED


async def test_timeout_kills_the_whole_process_group(make_engine):
    h = await make_engine(
        """
        [tasks.hang]
        command = "sleep 30 & echo $! > $WORK/grandchild; wait"
        timeout = 1
        """
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    tree = await h.wait((await h.engine.trigger("hang")).id, timeout=15)
    assert loop.time() - start < 4.0
    assert tree.run.state is RunState.FAILED
    assert tree.run.error_type == "timeout"
    grandchild = int((h.workdir / "grandchild").read_text())
    for _ in range(20):
        if not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
            break
        await asyncio.sleep(0.1)
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


async def test_memory_limit_fails_with_resource_error_and_spares_others(make_engine):
    h = await make_engine(
        """
        [tasks.hog]
        command = ["python3", "-c", "import time\\nblocks=[]\\nfor _ in range(60):\\n    blocks.append(bytearray(10*1024*1024)); time.sleep(0.02)\\ntime.sleep(2)"]
        limits = { memory = "100MiB" }
        [tasks.neighbour]
        command = "sleep 0.5; echo fine"
        """
    )
    hog = await h.engine.trigger("hog")
    neighbour = await h.engine.trigger("neighbour")
    hog_tree = await h.wait(hog.id)
    assert hog_tree.run.state is RunState.FAILED
    assert hog_tree.run.error_type == "resources"
    assert "memory" in (hog_tree.run.message or "")
    assert (await h.wait(neighbour.id)).run.state is RunState.SUCCEEDED


async def test_task_runs_as_its_user_and_bad_users_are_config_errors(make_engine):
    import os

    import pytest

    if os.geteuid() != 0:
        pytest.skip("switching users needs root")
    h = await make_engine(
        """
        [tasks.as_nobody]
        command = "id -un; echo $HOME"
        user = "nobody"
        [tasks.ghost]
        command = "true"
        user = "no-such-user-xyz"
        retries = 3
        """
    )
    tree = await h.wait((await h.engine.trigger("as_nobody")).id)
    assert tree.run.state is RunState.SUCCEEDED, tree.run.message
    import pwd
    from pathlib import Path

    stdout = (Path(tree.attempts[0].output_dir) / "stdout").read_text()
    assert stdout.split() == ["nobody", pwd.getpwnam("nobody").pw_dir]
    ghost = await h.wait((await h.engine.trigger("ghost")).id)
    assert ghost.run.state is RunState.FAILED
    assert ghost.run.error_type == "config"
    assert "does not exist" in ghost.run.message
    assert len(ghost.attempts) == 1  # config errors are never retried
