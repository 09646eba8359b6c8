"""Engine fixtures: a real store file, a real executor, real processes; no socket."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.events import EngineEvent, RunUpdated
from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import Run, RunTree
from taskflow.store import Store
from taskflow.taskfile import load_paths


class EngineHarness:
    """An engine on ``tmp_path`` plus helpers to wait for outcomes."""

    def __init__(self, engine: Engine, workdir: Path) -> None:
        self.engine = engine
        self.workdir = workdir
        self.seen: list[Run] = []
        engine.bus.subscribe(self._record)
        self._finished: dict[str, asyncio.Future[Run]] = {}

    def _record(self, event: EngineEvent) -> None:
        if not isinstance(event, RunUpdated):
            return
        payload = event.run
        self.seen.append(msgspec.structs.replace(payload))
        if payload.parent_id is None and payload.state.terminal:
            fut = self._finished.setdefault(payload.id, asyncio.get_running_loop().create_future())
            if not fut.done():
                fut.set_result(payload)

    async def wait(self, run_id: str, timeout: float = 30.0) -> RunTree:
        """Wait until root run ``run_id`` is terminal; return its tree as stored."""
        fut = self._finished.setdefault(run_id, asyncio.get_running_loop().create_future())
        await asyncio.wait_for(fut, timeout)
        await self.engine.store.flush()
        tree = await self.engine.store.run_tree(run_id)
        assert tree is not None
        return tree

    def states_seen(self, run_id: str) -> list[str]:
        out: list[str] = []
        for run in self.seen:
            if run.id == run_id and (not out or out[-1] != run.state.value):
                out.append(run.state.value)
        return out


@pytest.fixture
async def make_engine(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    harnesses: list[EngineHarness] = []

    async def make(tasks_toml: str, *, files: dict[str, str] | None = None, **settings: Any) -> EngineHarness:
        taskdir = tmp_path / "tasks"
        taskdir.mkdir(exist_ok=True)
        (taskdir / "tasks.toml").write_text(textwrap.dedent(tasks_toml).replace("$WORK", str(tmp_path)))
        for name, text in (files or {}).items():
            (taskdir / name).write_text(textwrap.dedent(text))
        taskset = load_paths([taskdir])
        assert not taskset.errors, [str(e) for e in taskset.errors]
        store = await Store.open(tmp_path / "state.db")
        executor = ProcessExecutor(tmp_path / "output", stop_grace=1.0, sample_interval=0.1)
        engine = Engine(store, executor, EngineSettings(**settings))
        await engine.start(taskset)
        harness = EngineHarness(engine, tmp_path)
        harnesses.append(harness)
        return harness

    yield make
    for harness in harnesses:
        await harness.engine.stop("stop")
        await harness.engine.store.close()
