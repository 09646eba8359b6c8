"""Injectable sources of "now" and of host load, so snapshots never depend on the machine.

The app reads time and host CPU/memory only through these callables; tests pass fixed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
HostMetrics = Callable[[], tuple[float, float]]  # (cpu percent, memory percent)


def system_clock() -> datetime:
    """The real current time, timezone-aware UTC like every time on the wire."""
    return datetime.now(UTC)


def psutil_host_metrics() -> tuple[float, float]:
    """Host CPU and memory use of the machine the TUI runs on (not the daemon's)."""
    import psutil

    return psutil.cpu_percent(interval=None), psutil.virtual_memory().percent


def fixed_clock(at: datetime) -> Clock:
    """A clock frozen at ``at``: durations and countdowns render the same on every run."""
    return lambda: at


def fixed_host_metrics(cpu: float, memory: float) -> HostMetrics:
    """Host figures that never change, for snapshot tests."""
    return lambda: (cpu, memory)
