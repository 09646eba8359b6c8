"""Durations and sizes as people write them in task files: ``90``, ``"90s"``, ``"5m"``, ``"512MiB"``.

Kept free of any I/O so the task-file validator, the daemon and the CLI parse them identically.
"""

from __future__ import annotations

import re

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration(value: object) -> float:
    """Return seconds for ``30``, ``1.5``, ``"90s"``, ``"5m"``, ``"2h"``, ``"1h30m"``.

    Raises ``ValueError`` with a reason fit to show after a key path.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30 or \"5m\", got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"duration must not be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            number, unit = match.groups()
            return float(number) * _DURATION_UNITS[unit or "s"]
        compact = value.replace(" ", "")
        parts = _DURATION_PART_RE.findall(compact)
        if parts and "".join(n + u for n, u in parts) == compact:
            return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    raise ValueError(f"invalid duration {value!r} (use seconds or \"90s\", \"5m\", \"2h\")")


def parse_size(value: object) -> int:
    """Return bytes for ``1048576``, ``"512MiB"``, ``"1G"``, ``"100kB"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like \"512MiB\", got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative, got {value!r}")
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            number, unit = match.groups()
            factor = _SIZE_UNITS.get(unit.lower())
            if factor is not None:
                return int(float(number) * factor)
    raise ValueError(f"invalid size {value!r} (use bytes or \"512MiB\", \"2GiB\", \"100MB\")")


def format_duration(seconds: float | None) -> str:
    """Short human form: ``850ms``, ``42s``, ``3m05s``, ``2h10m``, ``3d4h``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def format_size(size: int | None) -> str:
    """Short binary form: ``512B``, ``12.0KiB``, ``340.2MiB``."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}TiB"  # pragma: no cover
