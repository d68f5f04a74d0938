"""Per-service event-time windows of template counts and their EWMA baselines (log rates).

Pure helpers of ``engine.detect.logs``: a window closes when a record at or past its end
arrives or when the watermark ``now`` passes it. A record whose window is still open counts
there; a late record, whose window has closed (its timestamp is before the open window's
start), is not counted in any window (that window was judged and learnt already) but in
``ServiceWindow.late``, a running total per service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from engine.events import Severity
from engine.vocabulary import JsonDict


@dataclass(slots=True)
class ServiceWindow:
    """Counts of the open window and the baselines learnt from closed ones, for one service."""

    start: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    total: int = 0
    closed: int = 0
    rate_mean: dict[str, float] = field(default_factory=dict)
    error_mean: float = 0.0
    late: int = 0
    """Records that arrived after their window closed (counted in no window)."""

    def to_dict(self) -> JsonDict:
        return {"start": self.start, "counts": dict(self.counts), "errors": self.errors,
                "total": self.total, "closed": self.closed, "rate_mean": dict(self.rate_mean),
                "error_mean": self.error_mean, "late": self.late}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceWindow:
        return cls(data["start"], dict(data["counts"]), int(data["errors"]), int(data["total"]),
                   int(data["closed"]), dict(data["rate_mean"]), float(data["error_mean"]),
                   int(data["late"]))


@dataclass(frozen=True, slots=True)
class RateFinding:
    """A closed window's verdict on one template (or on the service's error ratio)."""

    template_id: str
    reason: str
    window_start: float
    count: int
    expected: float
    score: float
    severity: Severity


@dataclass(frozen=True, slots=True)
class RateCheck:
    """Thresholds of the rate and ratio checks (from ``LogRules``)."""

    window_s: float
    min_windows: int
    alpha: float
    min_count: int
    spike_factor: float
    drop_fraction: float
    error_ratio_delta: float
    error_ratio_p: float = 1e-4

    def close(self, window: ServiceWindow, live: set[str]) -> list[RateFinding]:
        """Judge and learn the open window, then start the next one (in place).

        The error ratio is judged only when it rose ``error_ratio_delta`` above its baseline
        *and* that many errors out of the window's records would be rarer than
        ``error_ratio_p`` at the baseline share (binomial upper tail): a quiet service's few
        records swing its share by chance. Its baseline is a running mean over the first
        ``1 / alpha`` windows, then an EWMA.
        """
        start = window.start if window.start is not None else 0.0
        findings = self._rates(window, start) if window.closed >= self.min_windows else []
        ratio = window.errors / window.total if window.total else 0.0
        if (window.closed >= self.min_windows and window.total >= self.min_count
                and ratio - window.error_mean >= self.error_ratio_delta
                and binomial_tail(window.errors, window.total, window.error_mean)
                <= self.error_ratio_p):
            score = min(1.0, (ratio - window.error_mean) / max(1e-9, 1.0 - window.error_mean))
            findings.append(RateFinding("", "error_ratio", start, window.errors,
                                        window.error_mean, score, Severity.ERROR))
        elif window.total:
            rate = max(self.alpha, 1.0 / (window.closed + 1))
            window.error_mean += rate * (ratio - window.error_mean)
        # a spike is not learnt (an anomaly is not taken as normal); a drop is: a template that
        # went quiet (an error line after its fault ended) is news once, not every window
        flagged = {f.template_id for f in findings if f.reason != "rate_drop"}
        for tid in set(window.rate_mean) | set(window.counts):
            if tid not in live:
                window.rate_mean.pop(tid, None)
            elif tid not in flagged:
                mean = window.rate_mean.get(tid, 0.0)
                window.rate_mean[tid] = mean + self.alpha * (window.counts.get(tid, 0) - mean)
        window.start, window.counts, window.errors, window.total = start + self.window_s, {}, 0, 0
        window.closed += 1
        return findings

    def _rates(self, window: ServiceWindow, start: float) -> list[RateFinding]:
        findings = []
        for tid in sorted(set(window.rate_mean) | set(window.counts)):
            count, mean = window.counts.get(tid, 0), window.rate_mean.get(tid, 0.0)
            if count >= self.min_count and count >= self.spike_factor * (mean + 1.0):
                score = min(1.0, 1.0 - (mean + 1.0) / count)
                findings.append(RateFinding(tid, "rate_spike", start, count, mean, score,
                                            Severity.WARNING))
            elif mean >= self.min_count and count <= self.drop_fraction * mean:
                findings.append(RateFinding(tid, "rate_drop", start, count, mean,
                                            min(1.0, 1.0 - count / mean), Severity.WARNING))
        return findings


MIN_SHARE = 1e-3
"""Floor of the baseline share in the binomial test (a share never seen is not impossible)."""


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), p floored at ``MIN_SHARE``; a normal approximation
    (with continuity correction) above 500 trials.

    >>> round(binomial_tail(3, 10, 0.1), 4), binomial_tail(0, 10, 0.1)
    (0.0702, 1.0)
    """
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    p = min(max(p, MIN_SHARE), 1.0 - MIN_SHARE)
    if n > 500:
        z = (k - 0.5 - n * p) / math.sqrt(n * p * (1.0 - p))
        return 0.5 * math.erfc(z / math.sqrt(2.0))
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return min(1.0, sum(
        math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
        for i in range(k, n + 1)))
