"""Predictive alerting: when will a series cross its limit, and how sure are we?

``TrendModel`` fits an exponentially time-weighted linear trend (weights decay as
``exp(-age / window_s)``, so irregular sampling and gaps are handled by time, not by count) and
extrapolates it to the limit. A warning needs the trend to head towards the limit, to differ
from flat by ``confidence_z`` standard errors, and the estimated time to breach to be within
``horizon_s``. The range ``[eta_lo_s, eta_hi_s]`` comes from the slope's ±2 standard errors
(``None`` when the slower end never reaches the limit). One warning per breach episode: it
re-arms only after the condition has cleared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from engine.vocabulary import JsonDict

FIELDS: Final = ("n", "t0", "last_ts", "w", "mean_t", "mean_x", "c_tt", "c_tx", "c_xx", "armed")


@dataclass(frozen=True, slots=True)
class Breach:
    """Estimated time to breach (seconds from the point's ts) with a ±2 s.e. range."""

    limit: float
    eta_s: float
    eta_lo_s: float
    eta_hi_s: float | None
    expected: float


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    limit: float
    above: bool = True
    horizon_s: float = 86_400.0
    window_s: float = 21_600.0
    min_points: int = 20
    confidence_z: float = 4.0

    def __post_init__(self) -> None:
        if self.horizon_s <= 0 or self.window_s <= 0 or self.confidence_z <= 0:
            raise ValueError("horizon_s, window_s and confidence_z must be > 0")
        if self.min_points < 3:
            raise ValueError(f"min_points must be >= 3, got {self.min_points}")


class TrendModel:
    """Online weighted linear trend of one series; ``step`` returns a ``Breach`` to report.

    Examples
    --------
    >>> cfg = ForecastConfig(limit=100.0, horizon_s=7200.0, window_s=1800.0)
    >>> model = TrendModel(cfg)
    >>> warnings = [(i, model.step(60.0 * i, 50.0 + 0.5 * i + (-1) ** i * 0.2)) for i in range(80)]
    >>> [(i, round(b.eta_s / 60)) for i, b in warnings if b is not None]
    [(19, 82)]
    """

    __slots__ = ("cfg", *FIELDS)

    def __init__(self, cfg: ForecastConfig) -> None:
        self.cfg = cfg
        self.n = 0
        self.t0 = self.last_ts = 0.0
        self.w = self.mean_t = self.mean_x = self.c_tt = self.c_tx = self.c_xx = 0.0
        self.armed = True

    def step(self, ts: float, x: float) -> Breach | None:
        """Learn ``(ts, x)``; return a breach warning if one starts at this point."""
        self._learn(ts, x)
        breach = self._breach(ts) if self.n >= self.cfg.min_points else None
        if breach is None:
            self.armed = True
            return None
        if not self.armed:
            return None
        self.armed = False
        return breach

    def _learn(self, ts: float, x: float) -> None:
        if self.n == 0:
            self.t0 = ts
        decay = math.exp(-max(ts - self.last_ts, 0.0) / self.cfg.window_s) if self.n else 1.0
        self.n += 1
        self.last_ts = ts
        self.w *= decay
        self.c_tt *= decay
        self.c_tx *= decay
        self.c_xx *= decay
        t = ts - self.t0
        self.w += 1.0
        dt, dx = t - self.mean_t, x - self.mean_x
        self.mean_t += dt / self.w
        self.mean_x += dx / self.w
        self.c_tt += dt * (t - self.mean_t)
        self.c_tx += dt * (x - self.mean_x)
        self.c_xx += dx * (x - self.mean_x)

    def _breach(self, ts: float) -> Breach | None:
        cfg = self.cfg
        if self.c_tt <= 0.0 or self.w <= 2.0:
            return None
        slope = self.c_tx / self.c_tt
        residual = max(self.c_xx - slope * self.c_tx, 0.0) / (self.w - 2.0)
        se = math.sqrt(residual / self.c_tt) + 1e-12 * abs(slope)
        toward = slope if cfg.above else -slope
        expected = self.mean_x + slope * (ts - self.t0 - self.mean_t)
        gap = (cfg.limit - expected) if cfg.above else (expected - cfg.limit)
        if toward <= cfg.confidence_z * se or gap <= 0.0:
            return None
        eta = gap / toward
        if eta > cfg.horizon_s:
            return None
        slow = toward - 2.0 * se
        return Breach(cfg.limit, eta, gap / (toward + 2.0 * se),
                      gap / slow if slow > 0.0 else None, expected)

    def to_dict(self) -> JsonDict:
        return {key: getattr(self, key) for key in FIELDS}

    @classmethod
    def from_dict(cls, cfg: ForecastConfig, data: dict[str, Any]) -> TrendModel:
        model = cls(cfg)
        for key in FIELDS:
            setattr(model, key, data[key])
        return model
