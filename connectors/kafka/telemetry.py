"""Prometheus metrics of the Kafka worker (scraped on ``metrics_port``; see deploy/prometheus.yml).

Counters are incremented once per batch, never per record, to keep the hot path cheap.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

RECORDS_IN: Final = Counter(
    "vigil_records_consumed_total", "Kafka records consumed", ["topic"]
)
EVENTS_IN: Final = Counter(
    "vigil_events_decoded_total", "Typed events decoded (batched records count each element)",
    ["topic"],
)
REJECTED: Final = Counter(
    "vigil_records_rejected_total", "Records sent to the dead-letter topic", ["topic"]
)
OUTPUTS: Final = Counter("vigil_outputs_total", "Records produced, by output topic", ["topic"])
CHECKPOINTS: Final = Counter("vigil_checkpoints_total", "Completed checkpoints")
CHECKPOINT_SECONDS: Final = Histogram(
    "vigil_checkpoint_seconds", "Duration of flush + state write + offset commit"
)
ASSIGNED: Final = Gauge("vigil_assigned_partitions", "Partitions owned by this worker")
