"""Fixtures for task-file tests: write files into a temporary tasks folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from taskflow.taskfile import load_file


@pytest.fixture
def tasks_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks.d"
    folder.mkdir()
    return folder


@pytest.fixture
def write(tasks_dir: Path) -> Callable[[str, str], Path]:
    """Write ``text`` (dedented) as ``tasks.d/<name>`` and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = tasks_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return write_file


@pytest.fixture
def errors_of(write: Callable[[str, str], Path]) -> Callable[[str, str], list[str]]:
    """The error lines of a task file, with the folder prefix removed for readability."""

    def check(name: str, text: str) -> list[str]:
        path = write(name, text)
        result = load_file(path)
        assert (not result.tasks) or result.ok
        return [str(e).replace(str(path.parent) + "/", "") for e in result.errors]

    return check
