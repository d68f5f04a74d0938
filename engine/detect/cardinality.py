"""Cardinality protection: a cap on live series keys, with idle eviction by event time.

A *key* is a metric series (``MetricPoint.key``) or a log template id. ``SeriesGuard`` admits
keys until ``max_series`` are live; a new key beyond the cap is dropped (counted), so a flood of
new label values cannot push out the series already being watched. A key not seen for
``idle_s`` of event time is evicted, which frees a slot and tells the owner to forget its state.
Idleness is judged on a clock that never runs ahead of the runner's ``now`` (the pipeline's
event time, robust to a producer whose clock runs ahead): otherwise one host an hour fast would
make every other series look idle and have it evicted.

How it is applied:

* Metrics (runtime or ``DetectStage``): ``guard.process(state, points, now=...)`` returns the
  admitted ``MetricPoint``s and one ``Eviction`` per evicted key, in stream order. Pass the points
  to the metric detector and delete each evicted key from its per-series state.
* Log templates (inside a log detector, once the template id is known): call
  ``admit(state, key, ts, ...)`` per record; it returns ``(admitted, evicted_keys)``.

Memory is O(``max_series``) whatever the number of distinct keys offered.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.detect.series_keys import SeriesKeys
from engine.events import EventTime, MetricPoint
from engine.operator import OperatorExample, register_example
from engine.rules.runtime import RuntimeRules
from engine.vocabulary import JsonDict


@dataclass(frozen=True, slots=True)
class Eviction:
    """A key whose state its owner should now forget (idle since ``last_seen``)."""

    key: str
    last_seen: EventTime


@dataclass(slots=True)
class GuardState:
    """Live keys in least-recently-seen-first order, with the event time each was last seen.

    ``clock`` is the largest event time seen; ``dropped``/``evicted`` count points refused at
    the cap and keys evicted as idle.
    """

    live: OrderedDict[str, float] = field(default_factory=OrderedDict)
    """An ``OrderedDict``: moving a key to the end and reading the oldest stay O(1) (a plain
    dict re-inserted into keeps its deleted slots, and finding its first key scans them)."""
    clock: float | None = None
    dropped: int = 0
    evicted: int = 0
    version: int = 1
    keys: SeriesKeys = field(default_factory=SeriesKeys, compare=False, repr=False)
    """Series key memo (a cache, never serialized)."""

    def key_of(self, point: MetricPoint) -> str:
        """``point.key``, remembered (``engine.detect.series_keys``)."""
        return self.keys.key_of(point)

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "live": [[k, v] for k, v in self.live.items()],  # a list keeps the recency order
            "clock": self.clock,
            "dropped": self.dropped,
            "evicted": self.evicted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GuardState:
        clock = data["clock"]
        return cls(
            live=OrderedDict((str(k), float(v)) for k, v in data["live"]),
            clock=None if clock is None else float(clock),
            dropped=int(data["dropped"]),
            evicted=int(data["evicted"]),
        )


def admit(
    state: GuardState, key: str, ts: EventTime, *, max_series: int, idle_s: float,
    now: EventTime | None = None,
) -> tuple[bool, list[Eviction]]:
    """Record a sighting of ``key`` at ``ts``: is it admitted, and which keys went idle.

    The idle clock moves to ``ts``, but never past ``now`` when given (the pipeline's event
    time), so a point from a clock running ahead cannot idle the other keys. Eviction looks at
    the least recently seen keys first and stops at the first one still active, so it costs
    O(1) amortised per call. Updates ``state`` in place.

    >>> s = GuardState()
    >>> admit(s, "a", 0.0, max_series=1, idle_s=10.0), admit(s, "b", 5.0, max_series=1, idle_s=10.0)
    ((True, []), (False, []))
    >>> admit(s, "b", 3600.0, max_series=1, idle_s=10.0, now=8.0)  # b's clock runs ahead
    (False, [])
    >>> admit(s, "b", 20.0, max_series=1, idle_s=10.0)
    (True, [Eviction(key='a', last_seen=0.0)])
    """
    seen = ts if now is None else min(ts, now)
    clock = seen if state.clock is None else max(state.clock, seen)
    state.clock = clock
    evictions: list[Eviction] = []
    live = state.live
    while live:
        oldest = next(iter(live))
        if clock - live[oldest] <= idle_s:
            break
        evictions.append(Eviction(oldest, live.pop(oldest)))
    state.evicted += len(evictions)
    last = live.get(key)
    if last is None:
        if len(live) >= max_series:
            state.dropped += 1
            return False, evictions
        live[key] = seen
    else:
        live[key] = max(last, seen)
        live.move_to_end(key)
    return True, evictions


@dataclass(frozen=True, slots=True)
class SeriesGuard:
    """Cap live metric series at ``max_series``; evict series idle for ``idle_s`` (event time).

    ``now`` is the pipeline's event time: the idle clock follows the points but never passes
    it. Outputs the admitted points and an ``Eviction`` for every series that went idle, in order.
    Updates ``state`` in place and returns it.

    Examples
    --------
    >>> from engine.testing import pt, T0
    >>> op = SeriesGuard(max_series=2, idle_s=60.0)
    >>> batch = [pt("a", 1.0), pt("b", 1.0), pt("c", 1.0), pt("b", 2.0, ts=T0 + 50),
    ...          pt("c", 3.0, ts=T0 + 100)]
    >>> state, out = op.process(op.initial_state(), batch, now=T0 + 100)
    >>> [f"evict {e.key}" if isinstance(e, Eviction) else e.key for e in out]
    ['a{service="a"}', 'b{service="b"}', 'b{service="b"}', 'evict a{service="a"}', 'c{service="c"}']
    >>> state.dropped, state.evicted, list(state.live)
    (1, 1, ['b{service="b"}', 'c{service="c"}'])
    """

    max_series: int = 100_000
    idle_s: float = 3600.0
    name: str = "series_guard"

    def __post_init__(self) -> None:
        if self.max_series < 1:
            raise ValueError(f"max_series must be >= 1, got {self.max_series}")
        if self.idle_s <= 0:
            raise ValueError(f"idle_s must be > 0, got {self.idle_s}")

    @classmethod
    def from_rules(cls, rules: RuntimeRules) -> SeriesGuard:
        """Built from the ``runtime`` rule section (``max_series``, ``series_idle``)."""
        return cls(rules.max_series, rules.series_idle)

    def initial_state(self) -> GuardState:
        return GuardState()

    def process(
        self, state: GuardState, batch: Sequence[MetricPoint], *, now: EventTime
    ) -> tuple[GuardState, list[MetricPoint | Eviction]]:
        """``admit`` for each point, inlined (the hot path of every metric point); the oldest
        key is looked at again only when the clock moved or the oldest key changed (the
        answer cannot differ otherwise)."""
        out: list[MetricPoint | Eviction] = []
        append, live, max_series, idle_s = out.append, state.live, self.max_series, self.idle_s
        live_get, to_end, key_of = live.get, live.move_to_end, state.key_of
        memo = state.keys.memo.get
        clock, dropped, evicted = state.clock, 0, 0
        first: str | None = None  # the oldest key when eviction was last checked
        stale = True  # whether it must be checked again (clock moved, or the oldest changed)
        for point in batch:
            seen = point.ts
            if seen > now:
                seen = now
            if clock is None or seen > clock:
                clock, stale = seen, True
            if stale:
                while live:  # evict the least recently seen while idle
                    first = next(iter(live))
                    if clock - live[first] <= idle_s:
                        break
                    append(Eviction(first, live.pop(first)))
                    evicted += 1
                else:
                    first = None
                stale = False
            labels = point.labels
            key = memo((point.name, *labels, *labels.values())) or key_of(point)
            last = live_get(key)
            if last is None:
                if len(live) >= max_series:
                    dropped += 1
                    continue
                live[key] = seen
                stale = first is None  # it is the oldest now
            else:
                if seen > last:
                    live[key] = seen
                to_end(key)
                stale = key == first  # another key is the oldest now
            append(point)
        state.clock, state.dropped, state.evicted = clock, state.dropped + dropped, \
            state.evicted + evicted
        return state, out


def _example_batch() -> list[MetricPoint]:
    from engine.testing import T0

    # 40 series offered to a cap of 8; each lives for a while, then goes quiet
    return [
        MetricPoint(T0 + i * 5.0, "cpu", float(i), {"host": f"h{(i // 3) % 40}"})
        for i in range(300)
    ]


register_example(
    OperatorExample(
        "series_guard",
        lambda: SeriesGuard(max_series=8, idle_s=60.0),
        _example_batch,
        GuardState,
    )
)
