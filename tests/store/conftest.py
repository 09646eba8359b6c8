"""Fixtures for the store tests: a real SQLite file per test, closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from taskflow.model import Run, RunState, new_ulid
from taskflow.store import Store

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "state.db", readers=2)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(name="make_run")
def make_run_fixture():
    """``make_run(task, state=..., at=..., root=..., parent=..., **fields)``: a stored-shape Run."""
    return make_run


def make_run(
    task: str,
    *,
    state: RunState = RunState.SUCCEEDED,
    at: datetime = T0,
    root: Run | None = None,
    parent: Run | None = None,
    **fields: object,
) -> Run:
    """A run created at ``at`` (its ULID encodes that time, so id order is time order)."""
    run_id = new_ulid(at.timestamp())
    finished = at + timedelta(seconds=5) if state.terminal else None
    return Run(
        id=run_id,
        task=task,
        root_id=root.id if root else run_id,
        parent_id=parent.id if parent else None,
        state=state,
        created_at=at,
        finished_at=finished,
        **fields,  # type: ignore[arg-type]
    )
