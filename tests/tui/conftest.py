"""Fixtures for TUI tests: every source of nondeterminism removed in one place.

Fixed clock and host figures, animations off, no user themes, no NO_COLOR, no ticking
timers; the data comes from ``tui_sample`` Structs or from a real daemon on a real socket.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tui_sample import NOW, sample_snapshot

from taskflow.client.aio import ConnectionState
from taskflow.client.hosts import HostsFile
from taskflow.model import Role
from taskflow.tui import TaskflowApp
from taskflow.tui.clock import fixed_clock, fixed_host_metrics
from taskflow.tui.state import Snapshot


@pytest.fixture(autouse=True)
def _deterministic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.delenv("NO_COLOR", raising=False)
    user_themes = tmp_path / "user-themes"
    user_themes.mkdir()
    monkeypatch.setenv("TASKFLOW_THEMES_DIR", str(user_themes))


@pytest.fixture
def offline_app() -> Callable[..., TaskflowApp]:
    """Build an app showing the sample data, with time and host load frozen."""

    def build(
        role: Role = Role.OPERATOR,
        theme: str | None = None,
        keys: dict[str, str] | None = None,
        connection: ConnectionState | None = None,
        watch_themes: bool = False,
        fleet: HostsFile | None = None,
        snapshot: Snapshot | None = None,
    ) -> TaskflowApp:
        return TaskflowApp(
            fleet=fleet,
            snapshot=snapshot or sample_snapshot(role),
            theme=theme,
            keys=keys,
            clock=fixed_clock(NOW),
            host_metrics=fixed_host_metrics(12.0, 40.0),
            connection=connection,
            live_clock=False,
            watch_themes=watch_themes,
        )

    return build
