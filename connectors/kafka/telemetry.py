"""Prometheus metrics of the Kafka worker: the shared ``VigilMetrics`` (``connectors.metrics``).

The worker process records into one ``METRICS`` instance (its own registry, not the global
one); ``connectors.kafka.services`` serves it at ``/metrics`` on the worker's HTTP API, so
deploy/grafana/dashboards/vigil.json and deploy/prometheus/vigil-alerts.yml apply to workers as
they do to the embedded runtime. The names below are the worker's handles on those metrics
(plus three worker-only ones: checkpoints, their duration, owned partitions), the stage
latency per task kind, and the state size per stage (set at each checkpoint).

Counters are incremented once per batch, never per record, to keep the hot path cheap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from connectors.metrics import VigilMetrics

log = logging.getLogger("vigil.worker")
METRICS: Final = VigilMetrics()
"""Everything this worker process exports (``vigil_records_in_total``, ...)."""

RECORDS_IN: Final = METRICS.records_in
OUTPUTS: Final = METRICS.records_out
REJECTED: Final = Counter(
    "vigil_records_rejected",
    "Records sent to the dead-letter topic, per source topic",
    ["topic"],
    registry=METRICS.registry,
)
CHECKPOINTS: Final = Counter(
    "vigil_checkpoints", "Completed checkpoints", registry=METRICS.registry
)
CHECKPOINT_SECONDS: Final = Histogram(
    "vigil_checkpoint_seconds",
    "Duration of flush + state write + offset commit",
    registry=METRICS.registry,
)
ASSIGNED: Final = Gauge(
    "vigil_assigned_partitions", "Partitions owned by this worker", registry=METRICS.registry
)
STAGE_LATENCY: Final = {
    stage: METRICS.stage_latency.labels(stage=stage) for stage in ("detect", "context", "incident")
}
"""``vigil_stage_latency_seconds`` of one partition batch (detect: per chunk), per task kind."""


class StateSizes:
    """``vigil_state_size_bytes``: the latest snapshot size of each owned partition, summed per
    stage (detect, context, incident); a revoked partition no longer counts."""

    def __init__(self) -> None:
        self.sizes: dict[object, tuple[str, int]] = {}

    def record(self, partition: object, stage: str, size: int) -> None:
        self.sizes[partition] = (stage, size)

    def forget(self, partitions: Iterable[object]) -> None:
        for partition in partitions:
            self.sizes.pop(partition, None)

    def export(self) -> None:
        totals = dict.fromkeys(STAGE_LATENCY, 0)
        for stage, size in self.sizes.values():
            totals[stage] = totals.get(stage, 0) + size
        for stage, total in totals.items():
            METRICS.state_size.labels(stage=stage).set(total)


@dataclass(slots=True)
class CheckpointLog:
    """Counts written checkpoints and their duration, and logs the first one written since
    the latest assignment (``started`` -> ``written``; one checkpoint in flight at a time)."""

    assignments: int = 0
    since_assign: bool = False
    covers: tuple[int, list[str], float] = (0, [], 0.0)
    """The checkpoint in flight: assignment count, partitions, start (monotonic s)."""

    def assigned(self) -> None:
        self.since_assign = False
        self.assignments += 1

    def started(self, names: list[str], started: float) -> None:
        self.covers = (self.assignments, names, started)

    def written(self, keys: list[str]) -> None:
        """After a checkpoint's offsets were committed."""
        assignments, names, started = self.covers
        if keys and assignments == self.assignments and not self.since_assign:
            self.since_assign = True
            log.info("first checkpoint since assignment snapshots=%d of=%s", len(names), names)
        CHECKPOINTS.inc()
        CHECKPOINT_SECONDS.observe(time.monotonic() - started)
