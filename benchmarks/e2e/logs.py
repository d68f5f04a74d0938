"""Log lines of one service-minute: requests, steady background WARN/ERROR, churn, fault errors.

Background templates are normal for the system: each service has a few WARN/ERROR templates at
steady Poisson rates from the first minute on (so at a cold start every one of them is new to
the detector, and none of them is news). Template churn adds a template now and then that keeps
recurring; a deploy logs its start-up lines and may leave a new WARN template behind.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

_INFO = (
    "GET /api/{svc}/items/{id} 200 in {ms}ms",
    "POST /api/{svc}/orders 201 in {ms}ms",
    "GET /api/{svc}/health 200 in {ms}ms",
    "user {id} session refreshed in {ms} ms",
)
BACKGROUND = (
    ("WARN", "Slow query on table {table} took {ms} ms"),
    ("WARN", "Retrying request to {dep} (attempt {n})"),
    ("ERROR", "Failed to refresh token for client {id}: token expired"),
    ("WARN", "GC pause of {ms} ms exceeded target"),
    ("ERROR", "Connection reset by peer while reading from {dep}:{port}"),
    ("WARN", "Cache miss for key {key}, loading from origin"),
    ("ERROR", "Request {id} to {dep} timed out after {ms} ms"),
    ("WARN", "Rate limit reached for tenant {id}, request delayed"),
    ("ERROR", "Unhandled exception in handler /api/{svc}/export: ValueError"),
    ("WARN", "Circuit breaker for {dep} half-open"),
)
CHURN = (
    ("INFO", "Scheduled job {key} finished in {ms} ms"),
    ("WARN", "Feature flag {key} evaluated with stale config"),
    ("WARN", "Deprecated API version v{n} called by client {id}"),
    ("ERROR", "Webhook delivery to partner {id} failed with status 5{n}"),
    ("INFO", "Rebalanced {n} partitions of topic {key}"),
    ("WARN", "Slow consumer on queue {key}: lag {ms} ms"),
)
_DEPLOY = (
    ("INFO", "Starting {svc} version {version}"),
    ("INFO", "Loaded configuration from /etc/{svc}/config.yaml"),
)
_DEPLOY_LEFTOVER = (
    ("WARN", "Config key {key} is deprecated since {version}"),
    ("INFO", "Migrated cache schema to {version}"),
)
_TABLES = ("orders", "users", "items", "ledger", "events", "sessions")


@dataclass(slots=True)
class ServiceLogs:
    """One service's log habits: request rate and its steady templates (level, text, per min)."""

    service: str
    labels: dict[str, str]
    info_rate: float
    steady: list[tuple[str, str, float]] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)

    def minute(self, rng: random.Random, ts: float, latency: float) -> list[dict[str, Any]]:
        out = [
            self.line(rng, ts, "INFO", rng.choice(_INFO), latency)
            for _ in range(poisson(rng, self.info_rate))
        ]
        for level, text, rate in self.steady:
            out += [self.line(rng, ts, level, text, latency) for _ in range(poisson(rng, rate))]
        return out

    def line(
        self, rng: random.Random, ts: float, level: str, text: str, latency: float, **extra: str
    ) -> dict[str, Any]:
        values = {
            "svc": self.service,
            "id": str(rng.randint(1, 99999)),
            "ms": str(int(latency * 1000 * rng.uniform(0.5, 1.5))),
            "n": str(rng.randint(1, 9)),
            "dep": rng.choice(self.deps) if self.deps else "db",
            "port": str(rng.choice((5432, 6379, 9092, 8080))),
            "table": rng.choice(_TABLES),
            "key": f"k{rng.randint(100, 999)}",
            "version": "1.0.0",
            **extra,
        }
        return {
            "ts": round(ts + rng.uniform(0.0, 59.9), 3),
            "level": level,
            "message": text.format(**values),
            "labels": self.labels,
        }

    def deploy(self, rng: random.Random, ts: float, version: str) -> list[dict[str, Any]]:
        """Start-up lines; sometimes a new template stays behind at a low steady rate."""
        lines = [self.line(rng, ts, lvl, t, 0.1, version=version) for lvl, t in _DEPLOY]
        if rng.random() < 0.6:
            level, text = rng.choice(_DEPLOY_LEFTOVER)
            self.steady.append((level, text.replace("{version}", version), rng.uniform(0.1, 1)))
        return lines


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small per-minute rates used here."""
    if lam <= 0.0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
