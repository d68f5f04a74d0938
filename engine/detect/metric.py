"""Per-series metric detector (placeholder EWMA z-score; issue 9 replaces it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.events import Anomaly, AnomalyKind, EventTime, MetricPoint, Severity, node_of, stable_id
from engine.rules.detectors import DetectorRules


@dataclass(slots=True)
class MetricState:
    series: dict[str, list[float]] = field(default_factory=dict)  # key -> [n, mean, var]
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "series": {k: list(v) for k, v in self.series.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricState:
        return cls({k: list(v) for k, v in data["series"].items()})


@dataclass(frozen=True, slots=True)
class MetricDetector:
    """EWMA mean/variance per series; score = 1 - 2*exp(-|z|/2)-ish squashing of |z|.

    Examples
    --------
    >>> from engine.testing import pt
    >>> op = MetricDetector(alpha=0.5, min_samples=2, threshold=0.5)
    >>> _, out = op.process(op.initial_state(), [pt("a", 1.0), pt("a", 3.0), pt("a", 40.0)], now=0)
    >>> [round(a.score, 3) for a in out]
    [1.0]
    """

    alpha: float = 0.05
    min_samples: int = 30
    threshold: float = 0.99
    name: str = "metric"

    @classmethod
    def from_rules(cls, rules: DetectorRules) -> MetricDetector:
        rule = rules.metrics[0]
        return cls(alpha=rule.alpha, min_samples=rule.min_samples, threshold=rule.threshold)

    def initial_state(self) -> MetricState:
        return MetricState()

    def process(
        self, state: MetricState, batch: Sequence[MetricPoint], *, now: EventTime
    ) -> tuple[MetricState, list[Anomaly]]:
        """Score each point before learning it; updates ``state`` in place."""
        out: list[Anomaly] = []
        for p in batch:
            key = p.key
            n, mean, var = state.series.get(key, [0.0, p.value, 0.0])
            if n >= self.min_samples:
                z = abs(p.value - mean) / math.sqrt(var + 1e-12)
                score = 1.0 - math.exp(-max(z - 3.0, 0.0))
                if score >= self.threshold:
                    sd = math.sqrt(var)
                    out.append(
                        Anomaly(
                            id=stable_id("an", "metric", key, p.ts),
                            ts=p.ts,
                            kind=AnomalyKind.METRIC,
                            node=node_of(p.labels) or p.name,
                            subject={"name": p.name, "labels": dict(p.labels)},
                            score=score,
                            severity=Severity.CRITICAL if score > 0.999 else Severity.WARNING,
                            detail={
                                "value": p.value,
                                "expected": mean,
                                "band": [mean - 3 * sd, mean + 3 * sd],
                            },
                            labels=p.labels,
                        )
                    )
                    continue
            diff = p.value - mean
            mean += self.alpha * diff
            var = (1 - self.alpha) * (var + self.alpha * diff * diff)
            state.series[key] = [n + 1, mean, var]
        return state, out
