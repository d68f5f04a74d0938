"""Vigil's own Prometheus metrics, one ``CollectorRegistry`` per app (tests stay isolated).

Runtimes record what they do through ``VigilMetrics``; the HTTP server renders it at
``/metrics``. Label values are kept to small closed sets (topic, stage, receiver, reason
class) so Vigil's own series cannot explode: dead-letter reasons are the decoder's
``reason_class`` (key path and problem, no values), and at most ``MAX_REASONS`` distinct ones
are kept (then ``other``). Every registry also has ``vigil_build_info{version}`` and the
``process_*`` metrics of prometheus_client's process collector (CPU, memory, open files).

Stage labels of ``vigil_stage_latency_seconds``: embedded runtime ``intake``, ``pipeline``,
``deliver``; Kafka worker ``detect``, ``context``, ``incident`` (one partition batch each).
``vigil_state_size_bytes`` uses ``detect`` and ``incident`` in both (and ``context`` in
workers: the event-time state of alerts/changes partitions).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from connectors.errors import Failure, failure_of
from connectors.model_metrics import ModelMetrics
from engine.detect.cardinality import GuardState
from engine.events import Action, ActionStatus
from engine.ingest.decode import reason_class
from engine.ingest.watermark import WatermarkState
from engine.state import IncidentState

MAX_REASONS: Final = 32
LATENCY_BUCKETS_S: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def vigil_version() -> str:
    """The installed package's version (``vigil --version``, ``vigil_build_info``)."""
    try:
        return importlib.metadata.version("vigil")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def reason_of(error: str) -> str:
    """Low-cardinality reason of a dead letter: its key path and problem, without the details.

    >>> reason_of("late: ts 10 is 5s before watermark 15 of metrics[0] (allowed lateness 5s)")
    'late'
    >>> reason_of("alerts[3].labels: must be a map of strings (labels.x is number)")
    'alerts.labels: must be a map of strings'
    """
    if error.startswith("late:"):
        return "late"
    return reason_class(error)[:80] or "unknown"


def alert_evictions(incident: IncidentState) -> dict[str, int]:
    """Evictions so far by the alert-memory caps of an ``IncidentStage`` state."""
    return {
        "correlate": incident.correlate.alerts.evicted,
        "reorder": incident.reorder.alerts_evicted,
    }


class VigilMetrics:
    """Every metric Vigil exports about itself, registered in its own ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.reasons: set[str] = set()
        self._last_counts: dict[str, float] = {}
        r = self.registry
        self.records_in = Counter(
            "vigil_records_in", "Records read, per input topic", ["topic"], registry=r
        )
        self.records_out = Counter(
            "vigil_records_out", "Records written, per output topic", ["topic"], registry=r
        )
        self.dead_letters = Counter(
            "vigil_dead_letters",
            "Records sent to the dead-letter output, by reason",
            ["reason"],
            registry=r,
        )
        self.stage_latency = Histogram(
            "vigil_stage_latency_seconds",
            "Wall time to process one batch, per stage",
            ["stage"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "vigil_consumer_lag_records",
            "Records behind the end of the input, per topic and partition",
            ["topic", "partition"],
            registry=r,
        )
        self.event_time_lag = Gauge(
            "vigil_event_time_lag_seconds",
            "Processing time minus the pipeline watermark (worker: wall clock minus the"
            " incident stage's event time; replay: newest event time minus the watermark)",
            registry=r,
        )
        self.late_events = Counter(
            "vigil_late_events",
            "Events older than their source's newest, by lateness (late, too_late)",
            ["lateness"],
            registry=r,
        )
        self.skewed_producers = Gauge(
            "vigil_skewed_producers",
            "Producers (hosts) whose event time is further than runtime.max_clock_skew from"
            " their source's median producer",
            registry=r,
        )
        self.producers_evicted = Counter(
            "vigil_producers_evicted",
            "Producers forgotten at the runtime.max_producers cap per source",
            registry=r,
        )
        self.incident_late_events = Counter(
            "vigil_incident_late_events",
            "Incident-stage events behind the event time it had released to, by lateness: late"
            " (correlated out of order) or too_late (dead letter)",
            ["lateness"],
            registry=r,
        )
        self.alerts_evicted = Counter(
            "vigil_alerts_evicted",
            "Alerts forgotten at the incident stage's alert-memory cap before their 24 h were"
            " up, per memory: correlate (fingerprints) or reorder (re-send keys)",
            ["memory"],
            registry=r,
        )
        self.live_series = Gauge(
            "vigil_live_series",
            "Live series keys under the cardinality cap, per kind",
            ["kind"],
            registry=r,
        )
        self.series_cap = Gauge(
            "vigil_series_cap", "Configured cap on live series, per kind", ["kind"], registry=r
        )
        self.series_dropped = Counter(
            "vigil_series_dropped",
            "Points of new series refused at the cardinality cap, per kind",
            ["kind"],
            registry=r,
        )
        self.series_evicted = Counter(
            "vigil_series_evicted",
            "Series evicted after being idle, per kind",
            ["kind"],
            registry=r,
        )
        self.state_size = Gauge(
            "vigil_state_size_bytes",
            "Serialized operator state size, per stage",
            ["stage"],
            registry=r,
        )
        self.incidents_open = Gauge("vigil_incidents_open", "Incidents currently open", registry=r)
        self.deliveries = Counter(
            "vigil_receiver_deliveries", "Actions delivered, per receiver", ["receiver"], registry=r
        )
        self.delivery_failures = Counter(
            "vigil_receiver_failures",
            "Deliveries that failed, per receiver and whether retryable",
            ["receiver", "retryable"],
            registry=r,
        )
        self.delivery_retries = Counter(
            "vigil_receiver_retries",
            "Delivery attempts after the first, per receiver",
            ["receiver"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "vigil_outbox_depth", "Actions waiting to be delivered", registry=r
        )
        self.http_requests = Counter(
            "vigil_http_requests",
            "HTTP API requests, per route and status",
            ["route", "status"],
            registry=r,
        )
        self.ready = Gauge(
            "vigil_ready", "1 once state is recovered and the worker serves", registry=r
        )
        self.models = ModelMetrics(r)
        """Model-performance status per model and metric (``connectors.model_metrics``)."""
        self.build_info = Gauge(
            "vigil_build_info", "Always 1; the running Vigil's version", ["version"], registry=r
        )
        self.build_info.labels(version=vigil_version()).set(1)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes

    def observe_event_time(self, clock: float, watermark: float | None) -> None:
        """``vigil_event_time_lag_seconds``: ``clock`` (processing time) minus ``watermark``
        (left as is while there is no watermark yet; never negative)."""
        if watermark is not None:
            self.event_time_lag.set(max(0.0, clock - watermark))

    def count_outcome(self, action: Action) -> None:
        """One action's delivery outcome (the embedded runtime and the workers alike):
        delivered, attempts after the first, and a failure as ``retryable="true"`` when the
        receiver kept failing retryably (timeouts, resets, 5xx, 429) until its deadline,
        ``"false"`` when it refused for good (other 4xx, an invalid body) or is not configured.
        """
        if action.attempts > 1:
            self.delivery_retries.labels(receiver=action.receiver).inc(action.attempts - 1)
        if action.status is ActionStatus.DELIVERED:
            self.deliveries.labels(receiver=action.receiver).inc()
        elif action.status is ActionStatus.FAILED:
            retryable = failure_of(action.error) is Failure.DEADLINE
            self.delivery_failures.labels(
                receiver=action.receiver, retryable=str(retryable).lower()
            ).inc()

    def count_dead_letter(self, error: str) -> None:
        """Count one dead letter under its reason (at most ``MAX_REASONS`` distinct reasons)."""
        reason = reason_of(error)
        if reason not in self.reasons:
            if len(self.reasons) >= MAX_REASONS:
                reason = "other"
            else:
                self.reasons.add(reason)
        self.dead_letters.labels(reason=reason).inc()

    def observe_watermark(self, state: WatermarkState) -> None:
        """Bring the late-event counters up to the tracker's own counts."""
        for lateness in ("late", "too_late"):
            self._advance(
                self.late_events.labels(lateness=lateness),
                f"late:{lateness}",
                state.counts.get(lateness, 0),
            )
        self.skewed_producers.set(state.skewed())
        self._advance(self.producers_evicted, "producers:evicted", state.evicted)

    def observe_reorder(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        """Count the late events of one incident-stage batch: its reorder slot's counts before
        and after it. Deltas, not totals: a restored state's totals were exported by the
        process that counted them, so a partition moving to another worker does not add them
        again (batches re-processed after a crash are counted again, like their outputs)."""
        for lateness in ("late", "too_late"):
            added = after.get(lateness, 0) - before.get(lateness, 0)
            if added > 0:
                self.incident_late_events.labels(lateness=lateness).inc(added)

    def observe_alert_memory(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        """Count the alert-memory evictions of one incident-stage batch (``alert_evictions``
        before and after it): deltas, as ``observe_reorder``."""
        for memory, total in after.items():
            added = total - before.get(memory, 0)
            if added > 0:
                self.alerts_evicted.labels(memory=memory).inc(added)

    def observe_guard(self, kind: str, state: GuardState, cap: int | None = None) -> None:
        """Export a cardinality guard's live series, its cap and its dropped/evicted totals."""
        self.live_series.labels(kind=kind).set(len(state.live))
        if cap is not None:
            self.series_cap.labels(kind=kind).set(cap)
        self._advance(self.series_dropped.labels(kind=kind), f"dropped:{kind}", state.dropped)
        self._advance(self.series_evicted.labels(kind=kind), f"evicted:{kind}", state.evicted)

    def _advance(self, counter: Counter, key: str, total: float) -> None:
        # Counters only go up; after a restart the state's total is the new reference point.
        last = self._last_counts.get(key)
        if last is not None and total > last:
            counter.inc(total - last)
        elif last is None and total > 0:
            counter.inc(total)
        self._last_counts[key] = total

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
