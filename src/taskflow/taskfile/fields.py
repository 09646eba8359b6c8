"""Checkers for single task-file values: each turns raw data into a model value or reports why not.

Every checker takes ``(value, path, problems)`` and returns the converted value, or ``INVALID``
after recording an error; callers then simply leave the field out. This is what lets one pass
report every bad value of a file instead of stopping at the first.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Final

from taskflow.model import Limits, RetryPolicy, Schedule, parse_duration, parse_size
from taskflow.model.spec import Expectation
from taskflow.taskfile.problems import Problems, child_path, type_name


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PYTHON_REF_RE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_RETRY_ON_RE = re.compile(r"^(?:timeout|exit|exit:\d{1,3}|signal|resources|spawn|[A-Za-z_]\w*)$")


def as_table(value: Any, path: str, problems: Problems) -> dict[str, Any] | Any:
    if not isinstance(value, dict):
        problems.wrong_type(path, "a table", value)
        return INVALID
    return value


def as_str(value: Any, path: str, problems: Problems, *, empty_ok: bool = False) -> str | Any:
    if not isinstance(value, str):
        problems.wrong_type(path, "a string", value)
        return INVALID
    if not empty_ok and not value.strip():
        problems.add(path, "must not be empty")
        return INVALID
    return value


def as_bool(value: Any, path: str, problems: Problems) -> bool | Any:
    if not isinstance(value, bool):
        problems.wrong_type(path, "true or false", value)
        return INVALID
    return value


def as_int(
    value: Any, path: str, problems: Problems, *, low: int | None = None, high: int | None = None
) -> int | Any:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.wrong_type(path, "an integer", value)
        return INVALID
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            problems.add(path, f"must be at least {low}, got {value}")
        else:
            problems.add(path, f"must be between {low} and {high}, got {value}")
        return INVALID
    return value


def as_number(
    value: Any, path: str, problems: Problems, *, low: float, high: float | None = None,
    low_open: bool = False,
) -> float | Any:
    """A number within bounds; ``low_open`` excludes ``low`` itself."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.wrong_type(path, "a number", value)
        return INVALID
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        if high is not None:
            bound = f"between {low:g} and {high:g}"
        problems.add(path, f"must be {bound}, got {value!r}")
        return INVALID
    return float(value)


def as_choice(value: Any, path: str, problems: Problems, choices: tuple[str, ...]) -> str | Any:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(f'"{c}"' for c in choices)
        problems.add(path, f"must be one of {options}, got {value!r}")
        return INVALID
    return value


def as_duration(
    value: Any, path: str, problems: Problems, *, positive: bool = False
) -> float | Any:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        problems.add(path, str(exc))
        return INVALID
    if positive and seconds <= 0:
        problems.add(path, f"must be a positive duration, got {value!r}")
        return INVALID
    return seconds


def as_size(value: Any, path: str, problems: Problems) -> int | Any:
    try:
        size = parse_size(value)
    except ValueError as exc:
        problems.add(path, str(exc))
        return INVALID
    if size <= 0:
        problems.add(path, f"must be a positive size, got {value!r}")
        return INVALID
    return size


def as_str_list(value: Any, path: str, problems: Problems) -> tuple[str, ...] | Any:
    if not isinstance(value, list):
        problems.wrong_type(path, "a list of strings", value)
        return INVALID
    items = [as_str(item, child_path(path, i), problems) for i, item in enumerate(value)]
    if any(item is INVALID for item in items):
        return INVALID
    return tuple(items)


def as_name(value: Any, path: str, problems: Problems, what: str = "task") -> str | Any:
    if not isinstance(value, str) or not NAME_RE.match(value):
        problems.add(
            path,
            f"invalid {what} name {value!r} (use letters, digits, '_', '.', '-'; "
            "start with a letter or digit)",
        )
        return INVALID
    return value


def as_env(value: Any, path: str, problems: Problems) -> dict[str, str] | Any:
    """Environment variables; numbers are accepted and kept as their text."""
    table = as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    env: dict[str, str] = {}
    ok = True
    for key, item in table.items():
        item_path = child_path(path, str(key))
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            problems.add(item_path, f"invalid environment variable name {key!r}")
            ok = False
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            env[key] = str(item)
        elif isinstance(item, str):
            env[key] = item
        else:
            problems.wrong_type(item_path, "a string", item)
            ok = False
    return env if ok else INVALID


def as_command(value: Any, path: str, problems: Problems) -> str | tuple[str, ...] | Any:
    """A string runs under ``/bin/sh -c``; a list is the argv itself."""
    if isinstance(value, str):
        return as_str(value, path, problems)
    if isinstance(value, list):
        if not value:
            problems.add(path, "must not be an empty list")
            return INVALID
        return as_str_list(value, path, problems)
    problems.wrong_type(path, "a string or a list of strings", value)
    return INVALID


def as_python_ref(value: Any, path: str, problems: Problems) -> str | Any:
    text = as_str(value, path, problems)
    if text is INVALID:
        return INVALID
    if not _PYTHON_REF_RE.match(text):
        problems.add(path, f'invalid python reference {text!r} (expected "module:function")')
        return INVALID
    return text


_RETRY_KEYS = ("max", "backoff", "max_backoff", "jitter", "on")


def as_retries(value: Any, path: str, problems: Problems) -> RetryPolicy | Any:
    """``retries = 2`` or a full policy table."""
    if isinstance(value, int) and not isinstance(value, bool):
        count = as_int(value, path, problems, low=0)
        return INVALID if count is INVALID else RetryPolicy(max=count)
    if not isinstance(value, dict):
        problems.wrong_type(path, "a retry count or a table", value)
        return INVALID
    table = value
    problems.unknown_keys(path, table, _RETRY_KEYS)
    fields: dict[str, Any] = {}
    if "max" in table:
        fields["max"] = as_int(table["max"], child_path(path, "max"), problems, low=0)
    for key in ("backoff", "max_backoff"):
        if key in table:
            fields[key] = as_duration(table[key], child_path(path, key), problems)
    if "jitter" in table:
        fields["jitter"] = as_number(table["jitter"], child_path(path, "jitter"), problems,
                                     low=0.0, high=1.0)
    if "on" in table:
        fields["on"] = _as_retry_conditions(table["on"], child_path(path, "on"), problems)
    if any(v is INVALID for v in fields.values()) or len(table) != len(
        [k for k in table if k in _RETRY_KEYS]
    ):
        return INVALID
    return RetryPolicy(**fields)


def _as_retry_conditions(value: Any, path: str, problems: Problems) -> tuple[str, ...] | Any:
    items = as_str_list(value, path, problems)
    if items is INVALID:
        return INVALID
    ok = True
    for index, item in enumerate(items):
        if not _RETRY_ON_RE.match(item) or (item.startswith("exit:") and int(item[5:]) > 255):
            problems.add(
                child_path(path, index),
                f'invalid retry condition {item!r} (use "timeout", "exit", "exit:N", "signal", '
                '"resources", "spawn" or an exception class name)',
            )
            ok = False
    return items if ok else INVALID


def as_limits(value: Any, path: str, problems: Problems) -> Limits | Any:
    table = as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, ("memory", "cpu"))
    fields: dict[str, Any] = {}
    if "memory" in table:
        fields["memory"] = as_size(table["memory"], child_path(path, "memory"), problems)
    if "cpu" in table:
        fields["cpu"] = as_duration(table["cpu"], child_path(path, "cpu"), problems, positive=True)
    if any(v is INVALID for v in fields.values()) or set(table) - {"memory", "cpu"}:
        return INVALID
    return Limits(**fields)


_SCHEDULE_KEYS = ("cron", "every", "at", "missed", "max_missed", "allow_overlap", "timezone")


def as_cron(value: Any, path: str, problems: Problems) -> str | Any:
    from croniter import croniter

    text = as_str(value, path, problems)
    if text is INVALID:
        return INVALID
    if not croniter.is_valid(text):
        problems.add(path, f"invalid cron expression {text!r}")
        return INVALID
    return text


def as_schedule(value: Any, path: str, problems: Problems) -> Schedule | Any:
    """A cron string, or a table with exactly one of ``cron``, ``every``, ``at``."""
    if isinstance(value, str):
        cron = as_cron(value, path, problems)
        return INVALID if cron is INVALID else Schedule(cron=cron)
    table = as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _SCHEDULE_KEYS)
    triggers = [key for key in ("cron", "every", "at") if key in table]
    ok = not (set(table) - set(_SCHEDULE_KEYS))
    if len(triggers) != 1:
        found = ", ".join(triggers) if triggers else "none"
        problems.add(path, f"needs exactly one of cron, every, at (found: {found})")
        ok = False
    fields: dict[str, Any] = {}
    if "timezone" in table:
        fields["timezone"] = _as_timezone(table["timezone"], child_path(path, "timezone"), problems)
    if "cron" in table:
        fields["cron"] = as_cron(table["cron"], child_path(path, "cron"), problems)
    if "every" in table:
        fields["every"] = as_duration(table["every"], child_path(path, "every"), problems,
                                      positive=True)
    if "at" in table:
        zone = fields.get("timezone", "UTC")
        fields["at"] = _as_instant(table["at"], child_path(path, "at"), problems,
                                   "UTC" if zone is INVALID else zone)
    if "missed" in table:
        fields["missed"] = as_choice(table["missed"], child_path(path, "missed"), problems,
                                     ("skip", "once", "all"))
    if "max_missed" in table:
        fields["max_missed"] = as_int(table["max_missed"], child_path(path, "max_missed"),
                                      problems, low=0)
    if "allow_overlap" in table:
        fields["allow_overlap"] = as_bool(table["allow_overlap"],
                                          child_path(path, "allow_overlap"), problems)
    if not ok or any(v is INVALID for v in fields.values()):
        return INVALID
    return Schedule(**fields)


_EXPECT_KEYS = ("duration", "by", "timezone")
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def as_expectation(value: Any, path: str, problems: Problems) -> Expectation | Any:
    """``expect = { duration = "10m", by = "03:30", timezone = "Europe/Paris" }``."""
    table = as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _EXPECT_KEYS)
    if not {"duration", "by"} & set(table):
        problems.add(path, "needs duration, by, or both")
        return INVALID
    fields: dict[str, Any] = {}
    if "duration" in table:
        fields["duration"] = as_duration(table["duration"], child_path(path, "duration"), problems,
                                         positive=True)
    if "by" in table:
        by = as_str(table["by"], child_path(path, "by"), problems)
        if by is not INVALID and not _CLOCK_RE.match(by):
            problems.add(child_path(path, "by"), f"must be a time of day like \"03:30\", got {by!r}")
            by = INVALID
        fields["by"] = by
    if "timezone" in table:
        fields["timezone"] = _as_timezone(table["timezone"], child_path(path, "timezone"), problems)
    if set(table) - set(_EXPECT_KEYS) or any(v is INVALID for v in fields.values()):
        return INVALID
    return Expectation(**fields)


def _as_timezone(value: Any, path: str, problems: Problems) -> str | Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = as_str(value, path, problems)
    if name is INVALID:
        return INVALID
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(path, f"unknown time zone {name!r}")
        return INVALID
    return name


def _as_instant(value: Any, path: str, problems: Problems, zone: str) -> datetime | Any:
    """An RFC 3339 time (TOML and YAML may already have parsed it); naive times are read in
    the schedule's time zone. Kept in UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.add(path, f"invalid date-time {value!r} (use RFC 3339: 2026-12-01T03:00:00Z)")
            return INVALID
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else type_name(value)
        problems.add(path, f"expected a date-time like 2026-12-01T03:00:00Z, got {kind}")
        return INVALID
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)
