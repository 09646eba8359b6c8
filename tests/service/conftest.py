"""Fixtures for the ``taskflow service`` tests (helpers in ``service_helpers``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from service_helpers import StandIns, make_stand_ins, unit_library_tree


@pytest.fixture
def stand_ins(tmp_path: Path) -> StandIns:
    return make_stand_ins(tmp_path / "stand-ins")


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A directory tree standing for a fresh machine: systemd's units, a venv's taskflowd."""
    return unit_library_tree(tmp_path / "target", "opt/taskflow/bin/taskflowd")


@pytest.fixture
def clean_xdg(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No XDG variables from the developer's session leak into a user-unit test."""
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "TASKFLOW_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    yield
