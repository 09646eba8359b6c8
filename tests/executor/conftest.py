"""Fixtures for the executor tests: a real executor over a temporary output root."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import TaskSpec

HERE = Path(__file__).parent
_ids = itertools.count(1)


def run_id() -> str:
    return f"run{next(_ids):04d}"


def command_spec(command: str | tuple[str, ...] | list[str], **kw: Any) -> TaskSpec:
    if isinstance(command, list):
        command = tuple(command)
    return TaskSpec(name=kw.pop("name", "t"), kind="command", command=command, **kw)


def python_spec(ref: str, params: dict[str, Any] | None = None, **kw: Any) -> TaskSpec:
    return TaskSpec(
        name=kw.pop("name", "py"),
        kind="python",
        python=f"pytasks_for_tests:{ref}",
        params=params or {},
        source=str(HERE / "tasks.toml"),  # the module sits next to the (notional) task file
        **kw,
    )


@pytest.fixture
def progress() -> list[tuple[str, float, str | None]]:
    return []


@pytest.fixture
def executor(tmp_path: Path, progress: list) -> ProcessExecutor:
    return ProcessExecutor(
        tmp_path / "out",
        stop_grace=0.5,
        sample_interval=0.05,
        on_progress=lambda run, fraction, message: progress.append((run, fraction, message)),
    )
