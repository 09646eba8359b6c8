"""Token buckets: how often runs of one service may start.

A bucket holds up to ``burst`` tokens and gains ``rate`` tokens a second; starting a run
takes one. Time is passed in, never read, so the scheduler's decisions replay exactly in tests.
"""

from __future__ import annotations


class TokenBucket:
    """Start-rate limiter for one service; starts full so a quiet service can burst at once."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int = 1, *, now: float | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate limit must be above 0 starts a second, got {rate!r}")
        if burst < 1:
            raise ValueError(f"rate limit burst must be at least 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._tokens = float(burst)
        self._at = now  # None: not used yet, so the first call fills from "full"

    def _refill(self, now: float) -> None:
        if self._at is None:
            self._at = now
            return
        # A clock stepping backwards must not mint tokens nor take them away.
        if now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now

    def available(self, now: float) -> float:
        """Tokens available at ``now`` (fractional), without taking one."""
        self._refill(now)
        return self._tokens

    def take(self, now: float) -> bool:
        """Take one token if there is one; True means the run may start now."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def next_token_at(self, now: float) -> float:
        """When ``take`` will next succeed: ``now`` if a token is there already."""
        self._refill(now)
        if self._tokens >= 1.0:
            return now
        return now + (1.0 - self._tokens) / self.rate

    def reconfigure(self, rate: float, burst: int) -> None:
        """Change rate and burst in place, keeping the tokens already earned (capped)."""
        if rate <= 0 or burst < 1:
            raise ValueError(f"invalid rate limit: rate={rate!r}, burst={burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._tokens = min(self._tokens, float(burst))
