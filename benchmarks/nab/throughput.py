"""Points/s of the embedded metric operator over many series (the pipeline's metric stage)."""

from __future__ import annotations

import time

from engine.detect.metric import MetricDetector
from engine.events import MetricPoint
from engine.rules.detectors import DetectorRules


def operator_points_per_s(series: int, points_per_series: int, batch_size: int = 5_000) -> float:
    """Feed ``series`` seeded sine-plus-noise series, interleaved, in batches; time ``process``."""
    op = MetricDetector.from_rules(DetectorRules())
    state = op.initial_state()
    labels = [{"service": f"svc-{i % 200}", "host": f"h{i}"} for i in range(series)]
    points = [
        MetricPoint(ts=1_764_115_200.0 + 60.0 * t, name="latency_ms",
                    value=100.0 + 10.0 * ((i * 7919 + t * 104729) % 1000) / 1000.0 + (t % 60),
                    labels=labels[i])
        for t in range(points_per_series) for i in range(series)
    ]
    start = time.perf_counter()
    for k in range(0, len(points), batch_size):
        batch = points[k:k + batch_size]
        state, _ = op.process(state, batch, now=batch[-1].ts)
    return len(points) / (time.perf_counter() - start)
