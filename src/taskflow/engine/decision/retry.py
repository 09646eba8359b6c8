"""Retry decisions: whether a failed attempt is tried again, and after how long.

Pure functions of the task's ``RetryPolicy`` and the attempt's outcome; randomness (jitter)
comes from a ``random.Random`` the caller owns, so tests are reproducible.
"""

from __future__ import annotations

import random

from taskflow.model import ErrorType, RetryPolicy

# Past 2**60 the cap always wins; stopping there keeps huge attempt numbers from overflowing.
_MAX_EXPONENT = 60

_ERROR_CONDITIONS = {
    "timeout": ErrorType.TIMEOUT,
    "exit": ErrorType.EXIT,
    "signal": ErrorType.SIGNAL,
    "resources": ErrorType.RESOURCES,
    "spawn": ErrorType.SPAWN,
    "exception": ErrorType.EXCEPTION,
    "lost": ErrorType.LOST,
}


def retry_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before the next attempt after attempt number ``attempt`` (1-based) failed.

    Exponential: ``backoff * 2**(attempt-1)``, capped at ``max_backoff``, then spread by
    ``±jitter`` (a fraction) so many runs failing together do not retry in lockstep.
    """
    exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
    base = min(policy.backoff * (2.0**exponent), policy.max_backoff)
    jitter = max(0.0, policy.jitter)
    if jitter and base > 0:
        base *= 1.0 + rng.uniform(-jitter, jitter)
    return max(0.0, base)


def should_retry(
    policy: RetryPolicy,
    attempt: int,
    error_type: ErrorType,
    exit_code: int | None,
    exception_type: str | None,
) -> bool:
    """Whether a run whose attempt number ``attempt`` just failed gets another attempt.

    ``config`` errors are never retried: the same parameters fail the same way. ``policy.max``
    counts retries, so ``max = 2`` allows attempts 1, 2 and 3. An empty ``on`` retries any
    other failure; otherwise one listed condition must match (see ``RetryPolicy``).
    """
    if error_type == ErrorType.CONFIG or attempt > policy.max:
        return False
    if not policy.on:
        return True
    return any(_matches(cond, error_type, exit_code, exception_type) for cond in policy.on)


def _matches(
    condition: str, error_type: ErrorType, exit_code: int | None, exception_type: str | None
) -> bool:
    cond = condition.strip()
    if cond.startswith("exit:"):
        try:
            wanted = int(cond[5:])
        except ValueError:
            return False
        return error_type == ErrorType.EXIT and exit_code == wanted
    if cond in _ERROR_CONDITIONS:
        return error_type == _ERROR_CONDITIONS[cond]
    if error_type != ErrorType.EXCEPTION or not exception_type:
        return False
    # "TimeoutError" matches "builtins.TimeoutError" and "app.errors.TimeoutError" alike.
    return exception_type == cond or exception_type.rsplit(".", 1)[-1] == cond.rsplit(".", 1)[-1]
