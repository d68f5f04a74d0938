"""Clocks, rate limiting and circuit breaking for delivery (all time from an injected clock).

``ScaledClock`` runs simulated time faster than real time so tests can play a two-minute
outage in seconds, with every backoff, rate limit and deadline scaled alike.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(slots=True)
class ScaledClock:
    """Simulated seconds passing ``factor`` times faster than real ones."""

    factor: float = 60.0
    origin: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return (time.monotonic() - self.origin) * self.factor

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)


@dataclass(slots=True)
class RateLimiter:
    """At most ``rate_per_s`` starts a second, evenly spaced (no bursts); ``None``: unlimited.

    >>> limiter = RateLimiter(1.0)
    >>> limiter.reserve(10.0), round(limiter.reserve(10.2), 3), limiter.reserve(11.0)
    (0.0, 0.8, 0.0)
    """

    rate_per_s: float | None
    next_at: float = float("-inf")

    def reserve(self, now: float) -> float:
        """0 and a slot taken if one is free at ``now``; else the wait until the next one."""
        if now < self.next_at:
            return self.next_at - now
        if self.rate_per_s is not None:
            self.next_at = now + 1.0 / self.rate_per_s
        return 0.0

    def pause_until(self, moment: float) -> None:
        """Start nothing before ``moment`` (a receiver's ``Retry-After``)."""
        self.next_at = max(self.next_at, moment)


@dataclass(slots=True)
class CircuitBreaker:
    """Closed -> open after ``threshold`` failures in a row -> half-open (one probe) after the
    cooldown, which doubles on each failed probe up to ``max_cooldown_s``.

    >>> b = CircuitBreaker(threshold=2, cooldown_s=10.0)
    >>> b.failure(0.0); b.failure(1.0); b.allowance(5.0), b.allowance(11.0)
    (0, 1)
    """

    threshold: int = 5
    cooldown_s: float = 30.0
    max_cooldown_s: float = 300.0
    failures: int = 0
    open_until: float | None = None
    current_cooldown_s: float = 0.0

    def allowance(self, now: float) -> int:
        """How many calls may be in flight: unlimited (-1), one probe (1) or none (0)."""
        if self.open_until is None:
            return -1
        return 1 if now >= self.open_until else 0

    def success(self) -> None:
        self.failures, self.open_until, self.current_cooldown_s = 0, None, 0.0

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.open_until is not None or self.failures >= self.threshold:
            if self.open_until is None:
                self.current_cooldown_s = self.cooldown_s
            else:
                self.current_cooldown_s = min(self.max_cooldown_s, self.current_cooldown_s * 2)
            self.open_until = now + self.current_cooldown_s
