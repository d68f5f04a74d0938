"""The runtime's front door: event time and the series cap, between decoding and the pipeline.

Per batch of decoded events (each ``Sourced``: its file or topic, offset and raw bytes):

1. ``WatermarkTracker`` classifies each event on time / late / too late against its *producer's*
   progress within its source (the ``host`` label, else the service; a file or partition
   carries many hosts, and one host's clock running ahead must not make the others' events
   late); too-late events become ``Rejected`` (``late: ...``) unless the rules accept them;
2. ``SeriesGuard`` admits metric points up to ``runtime.max_series`` live series; a new series
   past the cap is dropped (counted), a series idle for ``runtime.series_idle`` is evicted and
   forgotten by the metric detector;
3. the pipeline's ``now`` is ``combined_watermark``: the minimum over active sources of each
   source's event time, itself the minimum over its active producers not more than
   ``runtime.max_clock_skew`` behind the median one (a host ahead cannot drag time forward).

``clock`` is processing time. A replay has none of its own, so it passes the newest event time
seen (idle sources are then those silent for ``runtime.idle_source`` of that clock; producers'
idleness uses a clock that follows it by at most ``idle_source / 2`` a batch, so a host whose
clock jumps ahead cannot make the others idle at once). Counts go to ``VigilMetrics``
(records in, late events, skewed and evicted producers, live series, dropped and evicted
series, and the event-time lag: ``clock`` minus the pipeline's event time).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.metrics import VigilMetrics
from engine.detect.cardinality import Eviction, GuardState, SeriesGuard
from engine.events import EventTime, InputEvent, MetricPoint, Rejected
from engine.ingest.watermark import Sourced, WatermarkState, WatermarkTracker, combined_watermark
from engine.rules.runtime import RuntimeRules
from engine.state import PipelineState


@dataclass(slots=True)
class Intake:
    """Watermarks and the series guard with their state, recording into ``metrics``."""

    tracker: WatermarkTracker
    guard: SeriesGuard
    metrics: VigilMetrics
    marks: WatermarkState = field(init=False)
    series: GuardState = field(init=False)

    def __post_init__(self) -> None:
        self.marks = self.tracker.initial_state()
        self.series = self.guard.initial_state()
        self.metrics.series_cap.labels(kind="metrics").set(self.guard.max_series)

    @classmethod
    def from_rules(cls, rules: RuntimeRules, metrics: VigilMetrics) -> Intake:
        return cls(WatermarkTracker.from_rules(rules), SeriesGuard.from_rules(rules), metrics)

    def admit(
        self, batch: Sequence[Sourced], pipeline_state: PipelineState, *, clock: EventTime
    ) -> tuple[list[InputEvent], list[Rejected]]:
        """Events for the pipeline and the rejected too-late ones; evicted series are removed
        from the metric detector's slot of ``pipeline_state`` (a ``Pipeline`` state)."""
        started = time.perf_counter()
        for item in batch:
            self.metrics.records_in.labels(topic=item.source).inc()
        self.marks, timed = self.tracker.process(self.marks, batch, now=clock)
        rejected = [e for e in timed if isinstance(e, Rejected)]
        events = [e for e in timed if not isinstance(e, Rejected)]
        points = [e for e in events if isinstance(e, MetricPoint)]
        event_time = self.now(clock)  # robust to a producer ahead: its hosts' series stay
        self.series, guarded = self.guard.process(
            self.series, points, now=clock if event_time is None else event_time)
        _forget(pipeline_state, [e.key for e in guarded if isinstance(e, Eviction)])
        kept = {id(e) for e in guarded if isinstance(e, MetricPoint)}
        events = [e for e in events if not isinstance(e, MetricPoint) or id(e) in kept]
        self.metrics.observe_watermark(self.marks)
        self.metrics.observe_event_time(clock, event_time)
        self.metrics.observe_guard("metrics", self.series, self.guard.max_series)
        self.metrics.stage_latency.labels(stage="intake").observe(time.perf_counter() - started)
        return events, rejected

    def now(self, clock: EventTime) -> EventTime | None:
        """The pipeline's event time (``None`` before any event)."""
        return combined_watermark(self.marks, self.tracker, now=clock)


def _forget(pipeline_state: PipelineState, keys: list[str]) -> None:
    """Drop evicted series from the metric detector's per-series state."""
    if not keys:
        return
    series = pipeline_state.detect.metrics.series
    for key in keys:
        series.pop(key, None)
