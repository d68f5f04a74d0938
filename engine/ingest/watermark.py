"""Event time: per-producer lateness, per-source watermarks, and what happens to late events.

A source (a Kafka ``topic[partition]``, a replay file, the HTTP API) multiplexes many producers
(every host writes into the same partitions), and clocks differ per producer. So lateness is
judged per *producer* within its source (identity: ``engine.ingest.producers.producer_of``,
the ``host``/``instance`` label, else the service/model, else the series or alert name). An
event is

* ``on_time`` when it is at or after its producer's newest event (it moves that producer on),
* ``late`` when it is older than that but within ``allowed_lateness_s`` (out of order, kept),
* ``too_late`` when it is older than its producer's newest event minus ``allowed_lateness_s``:
  dead letter with reason ``late: ...`` or, with ``policy="accept"``, kept anyway. Either way
  it is counted, never silently dropped.

The first event of a producer not seen before (or evicted) is ``late`` when it is behind its
source's event time (as of the previous batch), else ``on_time``; never ``too_late``: one
event cannot tell a skewed clock from a late event.

An ``Alert`` is never ``too_late`` either: without an arrival time (a replay line with no
``ts``) its ts is its ``startsAt``, which Alertmanager keeps in every re-send of a firing alert
(the incident stage de-duplicates re-sends: ``engine.correlate.reorder``); with one (a Kafka
record time, the HTTP receive time) it is its arrival (``engine.ingest.alertmanager``).

A producer whose clock runs ahead or behind thus only judges its own events. At most
``max_producers`` producers are kept per source; past that the least recently seen is evicted
(counted) and its next event is judged as a new producer's.

Records, state and source marks: ``engine.ingest.marks``; the pipeline's first stage
(``engine.ingest.intake.IntakeStage``) runs this tracker in every runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.events import Alert, EventTime, InputEvent, MetricPoint, Rejected
from engine.ingest.marks import Lateness, Sourced, WatermarkState, combined_watermark
from engine.ingest.producers import producer_of, robust_mark
from engine.operator import OperatorExample, register_example
from engine.rules.runtime import RuntimeRules

__all__ = ["Lateness", "Sourced", "WatermarkState", "WatermarkTracker", "combined_watermark"]
_ON_TIME, _LATE, _TOO_LATE = (k.value for k in Lateness)


@dataclass(frozen=True, slots=True)
class WatermarkTracker:
    """Classify events against their producer's progress; too-late ones become dead letters.

    ``now`` is processing time as given by the runner (only used to tell idle sources and
    producers, and to evict the least recently seen producer). Updates ``state`` in place and
    returns it.

    Examples
    --------
    >>> from engine.testing import pt, T0
    >>> op = WatermarkTracker(allowed_lateness_s=60.0)
    >>> batch = [Sourced("metrics", pt("a", 1.0, ts=T0 + s)) for s in (100, 90, 30)]
    >>> state, out = op.process(op.initial_state(), batch, now=T0)
    >>> [type(e).__name__ for e in out], state.counts
    (['MetricPoint', 'MetricPoint', 'Rejected'], {'on_time': 1, 'late': 1, 'too_late': 1})
    >>> out[2].error[:61]
    'late: ts 1764115230.0 is 10.0s before watermark 1764115240.0 '

    Another host's clock 15 minutes ahead in the same source neither makes host ``a``'s
    events late nor moves the source's event time:

    >>> fast = Sourced("metrics", pt("b", 1.0, ts=T0 + 900, host="b"))
    >>> state, out = op.process(state, [fast, *batch[:2]], now=T0)
    >>> state.counts["too_late"], state.sources["metrics"][0] == T0 + 100
    (1, True)
    """

    allowed_lateness_s: float = 300.0
    policy: Literal["dead_letter", "accept"] = "dead_letter"
    idle_source_s: float = 600.0
    max_clock_skew_s: float = 600.0
    max_producers: int = 10_000
    name: str = "watermark"

    def __post_init__(self) -> None:
        if self.allowed_lateness_s < 0:
            raise ValueError(f"allowed_lateness_s must be >= 0, got {self.allowed_lateness_s}")
        if self.idle_source_s <= 0:
            raise ValueError(f"idle_source_s must be > 0, got {self.idle_source_s}")
        if self.max_clock_skew_s < 0:
            raise ValueError(f"max_clock_skew_s must be >= 0, got {self.max_clock_skew_s}")
        if self.max_producers < 1:
            raise ValueError(f"max_producers must be >= 1, got {self.max_producers}")
        if self.policy not in ("dead_letter", "accept"):
            raise ValueError(f"policy must be dead_letter or accept, got {self.policy!r}")

    @classmethod
    def from_rules(cls, rules: RuntimeRules) -> WatermarkTracker:
        """Built from the ``runtime`` rule section."""
        return cls(
            rules.allowed_lateness,
            rules.late_events,
            rules.idle_source,
            rules.max_clock_skew,
            rules.max_producers,
        )

    def initial_state(self) -> WatermarkState:
        return WatermarkState()

    def classify(self, state: WatermarkState, key: str, producer: str, ts: EventTime) -> Lateness:
        """Lateness of an event at ``ts`` from ``producer`` in source ``key``, without
        changing ``state`` (for a non-alert: ``process`` keeps an ``Alert`` it would call
        too late, as ``late``)."""
        seen = state.producers.get(key, {}).get(producer)
        if seen is None:
            source = state.sources.get(key)
            return Lateness.LATE if source is not None and ts < source[0] else Lateness.ON_TIME
        if ts >= seen[0]:
            return Lateness.ON_TIME
        if ts >= seen[0] - self.allowed_lateness_s:
            return Lateness.LATE
        return Lateness.TOO_LATE

    def process(
        self, state: WatermarkState, batch: Sequence[Sourced], *, now: EventTime
    ) -> tuple[WatermarkState, list[InputEvent | Rejected]]:
        out: list[InputEvent | Rejected] = []
        seen_at = self._tick(state, now) if batch else 0.0  # producers' idle clock
        touched: dict[str, None] = {}
        start, size = 0, len(batch)
        while start < size:  # runs of one source (a file's batch is one run)
            key = batch[start].key
            end = start + 1
            while end < size and batch[end].key == key:
                end += 1
            run = batch[start:end]

            def reject(i: int, error: str, run: Sequence[Sourced] = run) -> Rejected:
                return run[i].rejected(error)

            self._judge(state, key, [item.event for item in run], seen_at, out, reject)
            touched[key] = None
            start = end
        for key in touched:
            self._update_source(state, key, now, seen_at)
        return state, out

    def process_source(
        self, state: WatermarkState, key: str, events: Sequence[InputEvent], *, now: EventTime
    ) -> tuple[WatermarkState, list[InputEvent], list[tuple[int, str]]]:
        """``process`` for a batch of one source ``key`` without a ``Sourced`` per event (the
        Kafka worker's hot path): the events kept, in order, and ``(index in events, reason)``
        of each too-late one the caller turns into a dead letter (where it came from is the
        caller's to say). Same judgement and state as ``process`` with every item of ``key``.

        >>> from engine.testing import pt, T0
        >>> op = WatermarkTracker(allowed_lateness_s=60.0)
        >>> events = [pt("a", 1.0, ts=T0 + s) for s in (100, 90, 30)]
        >>> state, kept, late = op.process_source(op.initial_state(), "m[0]", events, now=T0)
        >>> len(kept), [i for i, _ in late], state.sources["m[0]"][0] == T0 + 100
        (2, [2], True)
        """
        kept: list[InputEvent] = []
        late: list[tuple[int, str]] = []
        if events:
            seen_at = self._tick(state, now)

            def reject(i: int, error: str) -> None:
                late.append((i, error))

            self._judge(state, key, events, seen_at, kept, reject)
            self._update_source(state, key, now, seen_at)
        return state, kept, late

    def _judge(
        self,
        state: WatermarkState,
        key: str,
        events: Sequence[InputEvent],
        seen_at: EventTime,
        out: list[Any],
        reject: Callable[[int, str], Rejected | None],
    ) -> None:
        """Classify ``events`` of source ``key`` in order, appending the kept ones to ``out``;
        each too-late one (policy ``dead_letter``) goes to ``reject(index, reason)``, whose
        result, if any, is appended in its place. The hot loop: ``classify`` and ``_touch``
        inlined where cheap."""
        lateness_s = self.allowed_lateness_s
        by = state.producers.setdefault(key, {})
        source = state.sources.get(key)  # as of the previous batch
        behind = source[0] if source is not None else None
        keep_too_late = self.policy == "accept"
        append, on_time, late, too_late, hosts = out.append, 0, 0, 0, state.hosts
        for i, event in enumerate(events):  # a metric's producer by its host: a cached name
            ts = event.ts
            producer = (type(event) is MetricPoint and hosts.get(event.labels.get("host", ""))) \
                or producer_of(event, hosts)
            seen = by.get(producer)
            if seen is None:  # a new producer: late when behind its source, never too late
                seen = self._touch(state, by, producer, seen, ts, seen_at)
                if behind is not None and ts < behind:
                    late += 1
                    append(event)
                    continue
            elif seen[1] < seen_at:
                seen = self._touch(state, by, producer, seen, ts, seen_at)
            if ts >= seen[0]:
                seen[0] = ts
                on_time += 1
                append(event)
            elif ts >= seen[0] - lateness_s or type(event) is Alert:  # alerts: see the module doc
                late += 1
                append(event)
            else:
                too_late += 1
                if keep_too_late:
                    append(event)
                elif (letter := reject(i, self._reason(key, producer, ts, seen[0]))) is not None:
                    append(letter)
        counts = state.counts
        for name, count in ((_ON_TIME, on_time), (_LATE, late), (_TOO_LATE, too_late)):
            counts[name] = counts.get(name, 0) + count

    def _tick(self, state: WatermarkState, now: EventTime) -> EventTime:
        """Advance the producers' idle clock with the runner's ``now``, by at most
        ``idle_source_s / 2`` per call, and return it.

        In a replay the runner's clock is the newest event time seen: a host jumping 15 min
        ahead moves it 15 min at once, and every other producer, still sending, would count as
        idle until it is seen again. A stalled worker's wall clock jumps alike. A producer is
        idle only once this clock moved ``idle_source_s`` past its last sighting: one call can
        never do that, so producers still sending stay active.
        """
        if not state.clock:
            state.clock = [now, now]
        else:
            last_now, idle_clock = state.clock
            step = min(max(now - last_now, 0.0), self.idle_source_s / 2)
            state.clock = [max(last_now, now), idle_clock + step]
        return state.clock[1]

    def _touch(
        self,
        state: WatermarkState,
        by: dict[str, list[float]],
        producer: str,
        seen: list[float] | None,
        ts: EventTime,
        seen_at: EventTime,
    ) -> list[float]:
        """``producer``'s ``[newest event time, last seen]``, moved to the most recently seen
        end of ``by`` (a new one starts at ``ts``; past the cap the least recent is evicted)."""
        if seen is None:
            seen = by[producer] = [ts, seen_at]
            if len(by) > self.max_producers:
                del by[next(iter(by))]
                state.evicted += 1
            return seen
        del by[producer]
        by[producer] = seen
        seen[1] = seen_at
        return seen

    def _update_source(
        self, state: WatermarkState, key: str, now: EventTime, idle_clock: EventTime
    ) -> None:
        by = state.producers[key]
        found = robust_mark(
            by, now=idle_clock, idle_s=self.idle_source_s, max_skew_s=self.max_clock_skew_s
        )
        mark, skewed = found if found is not None else (max(v[0] for v in by.values()), 0)
        last = state.sources.get(key)
        state.sources[key] = [mark, now if last is None else max(last[1], now), float(skewed)]

    def _reason(self, key: str, producer: str, ts: EventTime, newest: EventTime) -> str:
        watermark = newest - self.allowed_lateness_s
        return (
            f"late: ts {ts} is {watermark - ts}s before watermark {watermark} of {key}"
            f" producer {producer or '-'} (allowed lateness {self.allowed_lateness_s}s)"
        )


def _example_batch() -> list[Sourced]:
    from engine.testing import T0
    batch: list[Sourced] = []
    for i in range(60):
        partition, host = i % 2, i % 3
        skew = (0.0, 400.0, -200.0)[host]  # per host clock
        jitter = ((i * 37) % 11 - 5) * 20.0  # out of order, sometimes beyond the lateness
        labels = {"service": "a", "host": f"h{host}"}
        point = MetricPoint(T0 + i * 10.0 + skew + jitter, "cpu", float(i), labels)
        batch.append(Sourced("metrics", point, partition=partition, offset=i))
    return batch


register_example(OperatorExample(
    "watermark",
    lambda: WatermarkTracker(allowed_lateness_s=60.0, max_clock_skew_s=300.0, max_producers=2),
    _example_batch,
    WatermarkState,
))
