"""Retry decisions and backoff delays, and adaptive worker counts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskflow.engine.decision.adaptive import effective_workers
from taskflow.engine.decision.retry import retry_delay, should_retry
from taskflow.model import ErrorType, RetryPolicy

E = ErrorType


@settings(max_examples=300)
@given(
    backoff=st.floats(0.01, 10),
    max_backoff=st.floats(0.01, 600),
    jitter=st.floats(0, 0.9),
    attempt=st.integers(1, 200),
    seed=st.integers(0, 2**32),
)
def test_retry_delay_grows_exponentially_within_jitter_and_cap(backoff, max_backoff, jitter, attempt, seed):
    policy = RetryPolicy(max=5, backoff=backoff, max_backoff=max_backoff, jitter=jitter)
    base = min(backoff * 2 ** min(attempt - 1, 60), max_backoff)
    delay = retry_delay(policy, attempt, random.Random(seed))
    assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9


def test_retry_delays_double_until_the_cap():
    policy = RetryPolicy(max=10, backoff=1.0, max_backoff=10.0, jitter=0.0)
    rng = random.Random(1)
    assert [retry_delay(policy, n, rng) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    jittery = RetryPolicy(max=10, backoff=1.0, max_backoff=100.0, jitter=0.5)
    delays = {retry_delay(jittery, 3, rng) for _ in range(50)}
    assert len(delays) > 40 and min(delays) >= 2.0 and max(delays) <= 6.0


@pytest.mark.parametrize(
    ("on", "attempt", "error", "code", "exc", "expected"),
    [
        ((), 1, E.EXIT, 1, None, True),
        ((), 1, E.CONFIG, None, None, False),  # config errors never retry
        ((), 3, E.EXIT, 1, None, False),  # max = 2 retries: attempt 3 was the last
        ((), 2, E.TIMEOUT, None, None, True),
        (("timeout",), 1, E.EXIT, 1, None, False),
        (("timeout",), 1, E.TIMEOUT, None, None, True),
        (("exit:75",), 1, E.EXIT, 75, None, True),
        (("exit:75",), 1, E.EXIT, 1, None, False),
        (("exit",), 1, E.EXIT, 3, None, True),
        (("signal", "spawn"), 1, E.SPAWN, None, None, True),
        (("resources",), 1, E.SIGNAL, None, None, False),
        (("ConnectionError",), 1, E.EXCEPTION, None, "ConnectionError", True),
        (("ConnectionError",), 1, E.EXCEPTION, None, "requests.exceptions.ConnectionError", True),
        (("ConnectionError",), 1, E.EXCEPTION, None, "ValueError", False),
        (("ConnectionError",), 1, E.EXIT, 1, None, False),
        (("exit:x",), 1, E.EXIT, 1, None, False),
    ],
)
def test_should_retry_follows_the_policy(on, attempt, error, code, exc, expected):
    policy = RetryPolicy(max=2, on=on)
    assert should_retry(policy, attempt, error, code, exc) is expected


def test_no_retries_by_default():
    assert not should_retry(RetryPolicy(), 1, E.EXIT, 1, None)


@pytest.mark.parametrize(
    ("cpu", "mem", "expected"),
    [(10, 10, 8), (75, 85, 8), (87.5, 0, 5), (100, 0, 2), (0, 100, 2), (99, 92.5, 2), (float("nan"), 0, 8)],
)
def test_effective_workers_falls_linearly_under_pressure(cpu, mem, expected):
    assert effective_workers(2, 8, cpu, mem) == expected


@settings(max_examples=200)
@given(st.integers(-2, 50), st.integers(-2, 50), st.floats(0, 100), st.floats(0, 100))
def test_effective_workers_stays_within_bounds(low, high, cpu, mem):
    workers = effective_workers(low, high, cpu, mem)
    assert 1 <= workers <= max(1, high)
    assert workers >= min(max(1, low), max(1, high))
