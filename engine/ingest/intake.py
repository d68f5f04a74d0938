"""The pipeline's first stage: event time per producer, then the live-series cap.

Every runtime (the embedded replay, ``vigil serve``, each Kafka detect/context partition)
runs decoded events through ``IntakeStage`` before detection:

1. ``WatermarkTracker`` judges each event on time / late / too late against its *producer's*
   progress within its source; too-late events become ``Rejected`` (``late: ...``) unless the
   rules accept them;
2. ``SeriesGuard`` admits metric points up to ``runtime.max_series`` live series; a new series
   past the cap is dropped (counted), a series idle for ``runtime.series_idle`` of event time
   is evicted (counted, and an ``Eviction`` tells the detect stage to forget it);
3. the stage's event time (``IntakeStage.event_time``, what the pipeline gets as ``now``) is
   ``combined_watermark`` over its sources.

``now`` is processing time: a replay passes the newest event time seen, a live runtime its
wall clock. In a worker each detect/context partition has its own intake state (one source,
``topic[partition]``), so there the series cap holds per partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.detect.cardinality import Eviction, GuardState, SeriesGuard
from engine.events import EventTime, InputEvent, MetricPoint, Rejected
from engine.ingest.marks import Sourced, WatermarkState, combined_watermark
from engine.ingest.watermark import WatermarkTracker
from engine.operator import OperatorExample, register_example
from engine.rules.runtime import RuntimeRules

IntakeOutput = InputEvent | Rejected | Eviction
INTAKE_STATE_VERSION = 1


@dataclass(slots=True)
class IntakeState:
    """The tracker's marks and the series guard's live series.

    ``from_dict`` also reads what came before this state (``upgrade_marks``): a bare
    ``WatermarkState`` dict, as a worker's version-2 snapshot kept it beside the stage state.
    """

    marks: WatermarkState = field(default_factory=WatermarkState)
    series: GuardState = field(default_factory=GuardState)
    version: int = INTAKE_STATE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "marks": self.marks.to_dict(),
                "series": self.series.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntakeState:
        if "marks" not in data:
            data = upgrade_marks(data)
        return cls(WatermarkState.from_dict(data["marks"]), GuardState.from_dict(data["series"]))


def upgrade_marks(marks: dict[str, Any]) -> dict[str, Any]:
    """An intake state (version 1) from a watermark state alone (what today's worker snapshots
    and the embedded runtime kept before the intake was a stage): no live series yet, so the
    guard learns them afresh."""
    return {"version": 1, "marks": marks, "series": GuardState().to_dict()}


@dataclass(frozen=True, slots=True)
class IntakeStage:
    """Judge event time per producer, then cap the live metric series.

    Outputs: the events kept and a ``Rejected`` in place of each too-late one, in batch order,
    then an ``Eviction`` per series that went idle (the detect stage forgets them before it
    sees the batch). Updates ``state`` in place and returns it.

    Examples
    --------
    >>> from engine.testing import pt, T0
    >>> op = IntakeStage(WatermarkTracker(allowed_lateness_s=60.0), SeriesGuard(max_series=1))
    >>> batch = [Sourced("metrics", pt(s, 1.0, ts=T0 + t)) for s, t in (("a", 100), ("a", 30),
    ...                                                               ("b", 110))]
    >>> state, out = op.process(op.initial_state(), batch, now=T0 + 110)
    >>> [type(e).__name__ for e in out], state.series.dropped
    (['MetricPoint', 'Rejected'], 1)
    >>> op.event_time(state, now=T0 + 110) == T0 + 100 - 60
    True
    """

    tracker: WatermarkTracker = field(default_factory=WatermarkTracker)
    guard: SeriesGuard = field(default_factory=SeriesGuard)
    name: str = "intake"

    @classmethod
    def from_rules(cls, rules: RuntimeRules) -> IntakeStage:
        """Built from the ``runtime`` rule section."""
        return cls(WatermarkTracker.from_rules(rules), SeriesGuard.from_rules(rules))

    def initial_state(self) -> IntakeState:
        return IntakeState()

    def event_time(self, state: IntakeState, *, now: EventTime) -> EventTime | None:
        """The pipeline's event time (``None`` before any event)."""
        return combined_watermark(state.marks, self.tracker, now=now)

    def process(
        self, state: IntakeState, batch: Sequence[Sourced], *, now: EventTime
    ) -> tuple[IntakeState, list[IntakeOutput]]:
        state.marks, timed = self.tracker.process(state.marks, batch, now=now)
        kept, evicted = self._guard(state, timed, now)
        return state, [*kept, *evicted]

    def process_source(
        self, state: IntakeState, key: str, events: Sequence[InputEvent], *, now: EventTime
    ) -> tuple[IntakeState, list[InputEvent], list[Eviction], list[tuple[int, str]]]:
        """``process`` for events of one source ``key`` without a ``Sourced`` each (a Kafka
        partition's hot path): the events kept, the evictions, and ``(index in events,
        reason)`` of each too-late event for the caller to turn into a dead letter."""
        state.marks, kept, late = self.tracker.process_source(state.marks, key, events, now=now)
        kept, evicted = self._guard(state, kept, now)
        return state, kept, evicted, late

    def _guard(
        self, state: IntakeState, events: list[Any], now: EventTime
    ) -> tuple[list[Any], list[Eviction]]:
        """Pass ``events``' metric points through the series guard at the stage's event time
        (robust to a producer ahead: its hosts' series stay); other events pass as they are."""
        points = [e for e in events if type(e) is MetricPoint]
        if not points:
            return events, []
        event_time = self.event_time(state, now=now)
        before = state.series.evicted
        state.series, guarded = self.guard.process(
            state.series, points, now=now if event_time is None else event_time
        )  # the guard counts each ``Eviction`` it outputs: none to look for when it counted none
        evicted = [e for e in guarded if type(e) is Eviction] if state.series.evicted > before \
            else []
        if len(points) == len(events):  # metrics only (a metrics partition): keep the order
            return [e for e in guarded if type(e) is MetricPoint] if evicted else guarded, evicted
        kept = {id(e) for e in guarded if type(e) is MetricPoint}
        return [e for e in events if type(e) is not MetricPoint or id(e) in kept], evicted


def _example_operator() -> IntakeStage:
    tracker = WatermarkTracker(allowed_lateness_s=60.0, max_clock_skew_s=300.0, max_producers=2)
    return IntakeStage(tracker, SeriesGuard(max_series=2, idle_s=1e6))  # idling depends on now


def _example_batch() -> list[Sourced]:
    from engine.events import MetricPoint
    from engine.testing import T0

    batch: list[Sourced] = []
    for i in range(90):  # three hosts' clocks, out of order, four series offered to a cap of 2
        host = i % 3
        ts = T0 + i * 10.0 + (0.0, 400.0, -200.0)[host] + ((i * 37) % 11 - 5) * 20.0
        point = MetricPoint(ts, f"m{(i // 20) % 4}", float(i), {"host": f"h{host}"})
        batch.append(Sourced("metrics", point, partition=i % 2, offset=i))
    return batch


register_example(OperatorExample("intake", _example_operator, _example_batch, IntakeState))
