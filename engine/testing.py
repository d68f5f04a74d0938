"""Tiny builders for doctests and unit tests (pure; no I/O)."""

from __future__ import annotations

from typing import Final

from engine.events import EventTime, MetricPoint

T0: Final[EventTime] = 1_764_115_200.0
"""2025-11-26T00:00:00Z, the epoch of every example."""


def pt(series: str, value: float, ts: EventTime | None = None, **labels: str) -> MetricPoint:
    """A metric point of series ``series`` for service ``series`` unless labels say otherwise."""
    return MetricPoint(
        ts=T0 if ts is None else ts, name=series, value=value, labels=labels or {"service": series}
    )
