"""The runner's intake with producers whose clocks disagree, and its checkpoint
(``connectors.runner``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from connectors.checkpoint.memory import MemoryCheckpointStore
from connectors.metrics import VigilMetrics
from connectors.runner import EventClock, Runner
from engine.events import Anomaly, MetricPoint
from engine.ingest.watermark import Sourced
from engine.pipeline import Pipeline, PipelineOutput
from engine.rules import parse
from engine.testing import T0


class ListSink:
    """The in-memory ``Sink``: what was written, and how often it was flushed."""

    def __init__(self) -> None:
        self.outputs: list[PipelineOutput] = []
        self.flushed = 0

    def write(self, outputs: Sequence[PipelineOutput]) -> None:
        self.outputs += outputs

    def flush(self) -> None:
        self.flushed += 1


def points(skew_s: float, steps: int = 30, start: int = 0) -> list[Sourced]:
    """Three hosts in one file, ``node-3``'s clock ``skew_s`` off, one point per 10 s."""
    out = []
    for i in range(start, start + steps):
        for node in ("node-1", "node-2", "node-3"):
            ts = T0 + i * 10.0 + (skew_s if node == "node-3" else 0.0)
            labels = {"service": f"svc-{node}", "host": node}
            value = 50.0 if i == 80 and node == "node-1" else 1.0 + (i % 3) * 0.1
            out.append(Sourced("metrics.jsonl", MetricPoint(ts, "cpu", value, labels), offset=i))
    return out


def runner(rules: str = "logs: {}\n") -> tuple[Runner, VigilMetrics, ListSink]:
    metrics, sink = VigilMetrics(), ListSink()
    return Runner(Pipeline.from_rules(parse(rules)), sink, EventClock(), metrics), metrics, sink


def test_a_fast_host_neither_rejects_others_nor_moves_event_time_and_is_reported() -> None:
    run, metrics, sink = runner()
    run.step(points(900.0))
    intake = run.state.intake
    assert sink.outputs == []  # nothing rejected
    assert intake.marks.counts["on_time"] == 90
    clock = T0 + 290.0 + 900.0  # a replay's clock: the newest event time
    now = run.pipeline.intake.event_time(intake, now=clock)
    assert now == T0 + 290.0 - 300.0  # slowest host's newest - allowed lateness
    assert metrics.registry.get_sample_value("vigil_skewed_producers") == 1.0
    assert metrics.registry.get_sample_value("vigil_late_events_total", {"lateness": "late"}) == 0


def test_hosts_within_max_clock_skew_are_not_reported() -> None:
    run, metrics, _ = runner("runtime:\n  max_clock_skew: 2m\n")
    run.step(points(90.0))
    assert metrics.registry.get_sample_value("vigil_skewed_producers") == 0.0


def test_the_series_cap_drops_new_series_and_counts_them() -> None:
    run, metrics, _ = runner("runtime:\n  max_series: 2\n")
    run.step(points(0.0))
    assert list(run.state.detect.metrics.series) == [
        'cpu{host="node-1",service="svc-node-1"}', 'cpu{host="node-2",service="svc-node-2"}'
    ]
    labels = {"kind": "metrics"}
    assert metrics.registry.get_sample_value("vigil_series_dropped_total", labels) == 30
    assert metrics.registry.get_sample_value("vigil_series_cap", labels) == 2


def test_a_restored_checkpoint_gives_the_outputs_of_an_uninterrupted_run() -> None:
    whole, _, whole_sink = runner()
    for start in range(0, 120, 20):
        whole.step(points(0.0, 20, start))
    whole.finish()
    first, _, first_sink = runner()
    for start in range(0, 60, 20):
        first.step(points(0.0, 20, start))
    store = MemoryCheckpointStore()
    asyncio.run(first.checkpoint(store))
    assert first_sink.flushed == 1  # the sink is flushed before the state is written
    second, _, second_sink = runner()
    assert asyncio.run(second.restore(store))
    for start in range(60, 120, 20):
        second.step(points(0.0, 20, start))
    second.finish()
    assert first_sink.outputs + second_sink.outputs == whole_sink.outputs
    assert any(isinstance(o, Anomaly) for o in whole_sink.outputs)
