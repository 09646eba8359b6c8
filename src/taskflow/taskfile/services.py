"""``[pools]`` and ``[services]``: the shared limits a task file may declare.

Pools cap concurrency by name; services carry the circuit breaker and rate limit that every
task naming the service shares.
"""

from __future__ import annotations

from typing import Any

from taskflow.model import BreakerSettings, RateLimit, ServiceSpec
from taskflow.taskfile import fields as f
from taskflow.taskfile.fields import INVALID
from taskflow.taskfile.problems import Problems, child_path


def parse_pools(value: Any, problems: Problems, path: str = "pools") -> dict[str, int]:
    """``pools = { db = 2 }``: name → concurrency limit; 0 pauses the pool (nothing starts)."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return {}
    pools: dict[str, int] = {}
    for name, limit in table.items():
        item_path = child_path(path, str(name))
        if f.as_name(name, item_path, problems, what="pool") is INVALID:
            continue
        size = f.as_int(limit, item_path, problems, low=0)
        if size is not INVALID:
            pools[name] = size
    return pools


def parse_breaker(value: Any, path: str, problems: Problems) -> BreakerSettings | Any:
    """``{ failures = 3, cooldown = "30s" }``."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, ("failures", "cooldown"))
    fields: dict[str, Any] = {}
    if "failures" in table:
        fields["failures"] = f.as_int(table["failures"], child_path(path, "failures"), problems,
                                      low=1)
    if "cooldown" in table:
        fields["cooldown"] = f.as_duration(table["cooldown"], child_path(path, "cooldown"),
                                           problems, positive=True)
    if any(v is INVALID for v in fields.values()) or set(table) - {"failures", "cooldown"}:
        return INVALID
    return BreakerSettings(**fields)


def parse_rate_limit(value: Any, path: str, problems: Problems) -> RateLimit | Any:
    """``{ rate = 5, per = "1s", burst = 10 }``; the model keeps the rate per second."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    known = ("rate", "per", "burst")
    problems.unknown_keys(path, table, known)
    ok = not (set(table) - set(known))
    if "rate" not in table:
        problems.add(path, 'missing key "rate"')
        return INVALID
    rate = f.as_number(table["rate"], child_path(path, "rate"), problems, low=0.0, low_open=True)
    per = 1.0
    if "per" in table:
        per = f.as_duration(table["per"], child_path(path, "per"), problems, positive=True)
    burst = 1
    if "burst" in table:
        burst = f.as_int(table["burst"], child_path(path, "burst"), problems, low=1)
    if not ok or INVALID in (rate, per, burst):
        return INVALID
    return RateLimit(rate=rate / per, burst=burst)


def parse_services(value: Any, problems: Problems) -> dict[str, ServiceSpec]:
    """``[services.payments-api]`` tables with ``breaker`` and ``rate_limit``."""
    table = f.as_table(value, "services", problems)
    if table is INVALID:
        return {}
    services: dict[str, ServiceSpec] = {}
    for name, spec in table.items():
        path = child_path("services", str(name))
        if f.as_str(name, path, problems) is INVALID:
            continue
        body = f.as_table(spec, path, problems)
        if body is INVALID:
            continue
        problems.unknown_keys(path, body, ("breaker", "rate_limit"))
        fields: dict[str, Any] = {}
        if "breaker" in body:
            fields["breaker"] = parse_breaker(body["breaker"], child_path(path, "breaker"),
                                              problems)
        if "rate_limit" in body:
            fields["rate_limit"] = parse_rate_limit(body["rate_limit"],
                                                    child_path(path, "rate_limit"), problems)
        if all(v is not INVALID for v in fields.values()):
            services[name] = ServiceSpec(name=name, **fields)
    return services
