"""Producers within a source: who stamped an event's time, and a source's robust event time.

A source (a Kafka ``topic[partition]``, a replay file) multiplexes many producers: every host
writes its metrics into the same partitions. Clocks are per producer, so event-time progress
is tracked per producer (``engine.ingest.watermark``) and combined here.

Producer identity (``producer_of``), first that applies:

1. the ``host`` label, then the ``instance`` label (the machine whose clock stamped the event);
2. the topology node the labels name (``engine.events.node_of``: ``service``, ``model``);
3. the event's own name: a metric's or alert's ``name``, a prediction's or ground truth's
   ``model``, a change's ``service``; the topology has one producer, ``topology``;
4. otherwise (a log line without labels) the empty string: the whole source is one producer.

A source's robust event time (``robust_mark``): among producers heard from within
``idle_s`` of processing time, the *minimum* newest event time over those not more than
``max_skew_s`` behind the (lower) median producer. A producer running ahead is thus never the
minimum unless it is alone, and one running far behind stops holding the source back; producers
further than ``max_skew_s`` from the median either way are counted as skewed.
"""

from __future__ import annotations

from typing import Final

from engine.events import (
    Alert,
    Change,
    EventTime,
    GroundTruth,
    InputEvent,
    MetricPoint,
    Prediction,
    TopologyUpdate,
    node_of,
)

PRODUCER_LABEL_KEYS: Final = ("host", "instance")
"""Label keys naming the machine that produced an event, in order of preference."""


MAX_HOSTS: Final = 100_000
"""Entries of a ``producer_of`` host cache before it is cleared (a bound on the cache)."""


def producer_of(event: InputEvent, hosts: dict[str, str] | None = None) -> str:
    """The producer whose clock stamped ``event`` (see the module docstring for the order).

    >>> from engine.events import MetricPoint, LogRecord
    >>> producer_of(MetricPoint(0.0, "cpu", 1.0, {"service": "web", "host": "node-1"}))
    'host=node-1'
    >>> producer_of(LogRecord(0.0, "GET /", labels={"service": "web"}))
    'node=web'
    >>> producer_of(MetricPoint(0.0, "up", 1.0))
    'name=up'

    ``hosts`` (optional) caches the name per ``host`` label, for a caller that looks it up
    first (``WatermarkTracker``: one string less to build and hash per event).
    """
    labels = getattr(event, "labels", None)
    if not labels:
        return _named(event, {})
    value = labels.get("host")  # PRODUCER_LABEL_KEYS unrolled: this runs once per event
    if value:
        if hosts is None:
            return f"host={value}"
        if len(hosts) >= MAX_HOSTS:
            hosts.clear()
        name = hosts[value] = f"host={value}"
        return name
    value = labels.get("instance")
    if value:
        return f"instance={value}"
    return _named(event, labels)


def _named(event: InputEvent, labels: dict[str, str]) -> str:
    """``producer_of`` for an event without a host or instance label."""
    node = node_of(labels)
    if node:
        return f"node={node}"
    if isinstance(event, MetricPoint | Alert):
        return f"name={event.name}"
    if isinstance(event, Prediction | GroundTruth):
        return f"model={event.model}"
    if isinstance(event, Change):
        return f"node={event.service}"
    if isinstance(event, TopologyUpdate):
        return "topology"
    return ""


def robust_mark(
    producers: dict[str, list[float]], *, now: EventTime, idle_s: float, max_skew_s: float
) -> tuple[EventTime, int] | None:
    """``(robust event time, skewed producer count)`` of one source; ``None`` if none active.

    ``producers``: ``{producer: [newest event time, processing time last seen]}``.

    >>> marks = {"a": [100.0, 0.0], "b": [104.0, 0.0], "c": [1000.0, 0.0], "d": [-500.0, 0.0]}
    >>> robust_mark(marks, now=0.0, idle_s=60.0, max_skew_s=120.0)
    (100.0, 2)
    """
    newest = sorted(v[0] for v in producers.values() if now - v[1] <= idle_s)
    if not newest:
        return None
    median = newest[(len(newest) - 1) // 2]
    kept = [ts for ts in newest if ts >= median - max_skew_s]
    skewed = len(newest) - len(kept) + sum(ts > median + max_skew_s for ts in kept)
    return kept[0], skewed
