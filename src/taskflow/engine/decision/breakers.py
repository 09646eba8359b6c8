"""Circuit breakers and rate limits per service, and the gate the scheduler asks before
starting a run of a service.

A breaker is ``closed`` until ``failures`` consecutive failed attempts, then ``open``: runs of
the service wait (``blocked``) or fail at once (``on_open = "fail"``). After ``cooldown``
seconds it goes ``half_open`` and admits exactly one probe run; the probe's success closes
it, its failure opens it again for another cooldown. A breaker tripped by hand stays open
until reset by hand (an operator took the service out; no automatic probe).

Every failed *attempt* counts, not only final run outcomes, so a flaky service trips while
its runs are still retrying. Outcomes of other runs reported while the breaker is open or
half-open are ignored: only the probe decides (with no probe out, the next outcome does).

Times are epoch seconds passed in by the caller; ``BreakerState`` (the persisted and shown
form) uses UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from taskflow.engine.decision.ratelimit import TokenBucket
from taskflow.model import BreakerSettings, BreakerState, BreakerStatus, RateLimit, ServiceSpec


class CircuitBreaker:
    """The breaker of one service."""

    def __init__(self, service: str, settings: BreakerSettings) -> None:
        self.service = service
        self.settings = settings
        self.status = BreakerStatus.CLOSED
        self.consecutive_failures = 0
        self.opened_at: float | None = None
        self.probe_run_id: str | None = None
        self.tripped_by: str | None = None
        self.updated_at: float | None = None

    # -- reading ---------------------------------------------------------------------------

    def probe_at(self) -> float | None:
        """When an open breaker starts admitting a probe; None while closed or tripped by hand."""
        if self.status != BreakerStatus.OPEN or self.tripped_by is not None or self.opened_at is None:
            return None
        return self.opened_at + self.settings.cooldown

    def refresh(self, now: float) -> bool:
        """Move ``open`` to ``half_open`` once the cooldown has passed; True when it did."""
        probe_at = self.probe_at()
        if probe_at is not None and now >= probe_at:
            self.status = BreakerStatus.HALF_OPEN
            self.probe_run_id = None
            self.updated_at = now
            return True
        return False

    def allows(self, run_id: str, now: float) -> bool:
        """Whether ``run_id`` could start now, without taking the probe slot."""
        self.refresh(now)
        if self.status == BreakerStatus.CLOSED:
            return True
        if self.status == BreakerStatus.HALF_OPEN:
            return self.probe_run_id in (None, run_id)
        return False

    # -- changing --------------------------------------------------------------------------

    def admit(self, run_id: str, now: float) -> bool:
        """Let ``run_id`` start if allowed; in ``half_open`` it becomes the probe."""
        if not self.allows(run_id, now):
            return False
        if self.status == BreakerStatus.HALF_OPEN and self.probe_run_id != run_id:
            self.probe_run_id = run_id
            self.updated_at = now
        return True

    def record(self, run_id: str, success: bool, now: float) -> bool:
        """Count one attempt's outcome; True when the breaker's state changed."""
        self.refresh(now)
        if self.status == BreakerStatus.CLOSED:
            if success:
                changed = self.consecutive_failures != 0
                self.consecutive_failures = 0
            else:
                self.consecutive_failures += 1
                changed = True
                if self.consecutive_failures >= self.settings.failures:
                    self._open(now)
            if changed:
                self.updated_at = now
            return changed
        # The probe decides; with no probe out (freed, or lost in a restart) any outcome does.
        if self.status == BreakerStatus.HALF_OPEN and self.probe_run_id in (None, run_id):
            if success:
                self.reset(now)
            else:
                self.consecutive_failures += 1
                self._open(now)
            return True
        return False

    def release(self, run_id: str, now: float) -> bool:
        """Free the probe slot when the probe ended without an outcome (cancelled, interrupted)."""
        if self.status == BreakerStatus.HALF_OPEN and self.probe_run_id == run_id:
            self.probe_run_id = None
            self.updated_at = now
            return True
        return False

    def trip(self, now: float, by: str | None) -> None:
        """Open by hand; stays open until ``reset``."""
        self.status = BreakerStatus.OPEN
        self.opened_at = now
        self.probe_run_id = None
        self.tripped_by = by or "unknown"
        self.updated_at = now

    def reset(self, now: float) -> None:
        """Close and forget past failures."""
        self.status = BreakerStatus.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None
        self.probe_run_id = None
        self.tripped_by = None
        self.updated_at = now

    def _open(self, now: float) -> None:
        self.status = BreakerStatus.OPEN
        self.opened_at = now
        self.probe_run_id = None
        self.updated_at = now

    # -- persistence -----------------------------------------------------------------------

    def to_state(self) -> BreakerState:
        """The persisted and displayed form."""
        return BreakerState(
            service=self.service,
            status=self.status,
            consecutive_failures=self.consecutive_failures,
            opened_at=_dt(self.opened_at),
            half_open_at=_dt(self.probe_at()),
            probe_run_id=self.probe_run_id,
            tripped_by=self.tripped_by,
            updated_at=_dt(self.updated_at),
        )

    @classmethod
    def from_state(cls, state: BreakerState, settings: BreakerSettings) -> CircuitBreaker:
        """Rebuild from a persisted state. A half-open breaker comes back with its probe slot
        free, so a probe lost in the restart cannot hold the service shut forever."""
        breaker = cls(state.service, settings)
        breaker.status = state.status
        breaker.consecutive_failures = state.consecutive_failures
        breaker.opened_at = _ts(state.opened_at)
        breaker.probe_run_id = None
        breaker.tripped_by = state.tripped_by
        breaker.updated_at = _ts(state.updated_at)
        if breaker.status == BreakerStatus.OPEN and breaker.opened_at is None:
            breaker.opened_at = breaker.updated_at or 0.0
        return breaker


class ServiceBoard:
    """All services' breakers and rate limits; the ``ServiceGate`` the scheduler consults.

    Services not named in ``settings`` get ``default`` breaker settings and no rate limit.
    """

    def __init__(self, settings: Mapping[str, ServiceSpec], default: BreakerSettings | None = None) -> None:
        self._specs: dict[str, ServiceSpec] = dict(settings)
        self._default = default or BreakerSettings()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._changes: dict[str, BreakerState] = {}

    # -- ServiceGate -----------------------------------------------------------------------

    def admit(self, service: str, run_id: str, now: float) -> bool:
        """True when ``run_id`` may start now; takes a rate-limit token and, in ``half_open``,
        the probe slot. Takes nothing when it answers False."""
        breaker = self.breaker(service)
        was = breaker.status
        if not breaker.allows(run_id, now):
            self._note(breaker, was)
            return False
        bucket = self._bucket(service)
        if bucket is not None and not bucket.take(now):
            self._note(breaker, was)
            return False
        probe = breaker.probe_run_id
        breaker.admit(run_id, now)
        if breaker.status != was or breaker.probe_run_id != probe:
            self._changes[service] = breaker.to_state()
        return True

    def blocked_reason(self, service: str, now: float) -> str:
        """One sentence telling an operator why runs of ``service`` wait."""
        breaker = self.breaker(service)
        breaker.refresh(now)
        if breaker.status == BreakerStatus.OPEN:
            if breaker.tripped_by is not None:
                return f"circuit breaker for {service} was tripped by {breaker.tripped_by}"
            probe_at = breaker.probe_at() or now
            return f"circuit breaker for {service} is open; a probe run may start in {max(0.0, probe_at - now):.0f}s"
        if breaker.status == BreakerStatus.HALF_OPEN and breaker.probe_run_id is not None:
            return f"circuit breaker for {service} is half-open, waiting for probe run {breaker.probe_run_id}"
        bucket = self._bucket(service)
        if bucket is not None:
            wait = bucket.next_token_at(now) - now
            return f"rate limit for {service} is spent; next start in {max(0.0, wait):.1f}s"
        return f"service {service} is not admitting runs"

    def fail_fast(self, service: str, now: float | None = None) -> bool:
        """True when the breaker refuses runs — open, or half-open with its probe out — so runs
        with ``on_open = "fail"`` fail. With ``now``, an elapsed cooldown counts as half-open."""
        breaker = self.breaker(service)
        if now is not None and breaker.refresh(now):
            self._changes[service] = breaker.to_state()
        if breaker.status == BreakerStatus.HALF_OPEN:
            return breaker.probe_run_id is not None
        return breaker.status == BreakerStatus.OPEN

    def next_change(self, service: str, now: float) -> float | None:
        """Earliest time ``admit`` may say yes (``now`` or earlier: possibly right away);
        None when only an outside event can change it (a probe's outcome, a manual reset)."""
        breaker = self.breaker(service)
        breaker.refresh(now)
        if breaker.status == BreakerStatus.OPEN:
            return breaker.probe_at()
        if breaker.status == BreakerStatus.HALF_OPEN and breaker.probe_run_id is not None:
            return None
        bucket = self._bucket(service)
        return now if bucket is None else bucket.next_token_at(now)

    def release(self, service: str, run_id: str, now: float) -> None:
        """A run of ``service`` ended without an outcome that counts; free its probe slot."""
        breaker = self.breaker(service)
        if breaker.release(run_id, now):
            self._changes[service] = breaker.to_state()

    # -- operations ------------------------------------------------------------------------

    def record(self, service: str, run_id: str, success: bool, now: float) -> BreakerState | None:
        """Count one attempt's outcome; the new state when it changed (to persist and publish)."""
        breaker = self.breaker(service)
        if not breaker.record(run_id, success, now):
            return None
        state = breaker.to_state()
        self._changes.pop(service, None)
        return state

    def trip(self, service: str, now: float, by: str | None = None) -> BreakerState:
        """Open ``service``'s breaker by hand."""
        breaker = self.breaker(service)
        breaker.trip(now, by)
        self._changes.pop(service, None)
        return breaker.to_state()

    def reset(self, service: str, now: float) -> BreakerState:
        """Close ``service``'s breaker by hand."""
        breaker = self.breaker(service)
        breaker.reset(now)
        self._changes.pop(service, None)
        return breaker.to_state()

    def take_changes(self) -> list[BreakerState]:
        """States changed by ``admit``/``release`` (open → half-open, probe taken or freed)
        since the last call; ``record``, ``trip`` and ``reset`` return theirs directly."""
        changes = list(self._changes.values())
        self._changes.clear()
        return changes

    def states(self, now: float | None = None) -> list[BreakerState]:
        """Every configured or used service's breaker, sorted by service (closed if untouched).
        With ``now``, an open breaker whose cooldown has passed is shown (and noted, for
        ``take_changes``) as the ``half_open`` it now is."""
        out = []
        for name in sorted(set(self._specs) | set(self._breakers)):
            breaker = self.breaker(name)
            if now is not None and breaker.refresh(now):
                self._changes[name] = breaker.to_state()
            out.append(breaker.to_state())
        return out

    def knows(self, service: str) -> bool:
        """True when ``service`` is configured or has a breaker (used, or restored)."""
        return service in self._specs or service in self._breakers

    def state(self, service: str) -> BreakerState:
        """One service's breaker."""
        return self.breaker(service).to_state()

    def restore(self, states: Iterable[BreakerState]) -> None:
        """Load persisted breakers (at daemon start)."""
        for state in states:
            self._breakers[state.service] = CircuitBreaker.from_state(state, self._settings(state.service))

    def update_settings(
        self, settings: Mapping[str, ServiceSpec], default: BreakerSettings | None = None
    ) -> None:
        """Apply reloaded service settings, keeping breaker states and earned tokens."""
        self._specs = dict(settings)
        if default is not None:
            self._default = default
        for name, breaker in self._breakers.items():
            breaker.settings = self._settings(name)
        for name in list(self._buckets):
            limit = self._limit(name)
            if limit is None:
                del self._buckets[name]
            else:
                self._buckets[name].reconfigure(limit.rate, limit.burst)

    def breaker(self, service: str) -> CircuitBreaker:
        """``service``'s breaker, created closed on first use."""
        breaker = self._breakers.get(service)
        if breaker is None:
            breaker = self._breakers[service] = CircuitBreaker(service, self._settings(service))
        return breaker

    # -- internals -------------------------------------------------------------------------

    def _note(self, breaker: CircuitBreaker, was: BreakerStatus) -> None:
        if breaker.status != was:
            self._changes[breaker.service] = breaker.to_state()

    def _settings(self, service: str) -> BreakerSettings:
        spec = self._specs.get(service)
        return spec.breaker if spec is not None else self._default

    def _limit(self, service: str) -> RateLimit | None:
        spec = self._specs.get(service)
        return spec.rate_limit if spec is not None else None

    def _bucket(self, service: str) -> TokenBucket | None:
        bucket = self._buckets.get(service)
        if bucket is None:
            limit = self._limit(service)
            if limit is None:
                return None
            bucket = self._buckets[service] = TokenBucket(limit.rate, limit.burst)
        return bucket


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
