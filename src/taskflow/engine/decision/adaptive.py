"""Adaptive concurrency: fewer workers while the host is under CPU or memory pressure.

The engine samples psutil and calls ``effective_workers``; keeping the rule pure makes it
testable and keeps the sampling (an edge effect) out of the decision.
"""

from __future__ import annotations

CPU_HIGH = 75.0  # percent busy where we start to back off
MEM_HIGH = 85.0  # percent used where we start to back off


def effective_workers(
    min_workers: int, max_workers: int, cpu_percent: float, mem_percent: float
) -> int:
    """Worker slots to use now: ``max_workers`` below the thresholds, falling linearly to
    ``min_workers`` as CPU goes from 75% to 100% or memory from 85% to 100% (the worse wins).
    """
    high = max(1, max_workers)
    low = max(1, min(min_workers, high))
    cpu_pressure = _pressure(cpu_percent, CPU_HIGH)
    mem_pressure = _pressure(mem_percent, MEM_HIGH)
    pressure = max(cpu_pressure, mem_pressure)
    return max(low, min(high, high - round(pressure * (high - low))))


def _pressure(percent: float, threshold: float) -> float:
    """0 at or below ``threshold``, 1 at 100%, linear between."""
    if percent != percent:  # NaN from a failed sample: assume no pressure
        return 0.0
    return min(1.0, max(0.0, (percent - threshold) / (100.0 - threshold)))
