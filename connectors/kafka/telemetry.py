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

from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from connectors.metrics import VigilMetrics

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
