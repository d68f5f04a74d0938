"""The runtime's front door with producers whose clocks disagree (``connectors.intake``)."""

from __future__ import annotations

from connectors.intake import Intake
from connectors.metrics import VigilMetrics
from engine.events import MetricPoint
from engine.ingest.watermark import Sourced
from engine.pipeline import Pipeline
from engine.rules import parse
from engine.testing import T0


def points(skew_s: float, steps: int = 30) -> list[Sourced]:
    """Three hosts in one file, ``node-3``'s clock ``skew_s`` off, one point per 10 s."""
    out = []
    for i in range(steps):
        for node in ("node-1", "node-2", "node-3"):
            ts = T0 + i * 10.0 + (skew_s if node == "node-3" else 0.0)
            labels = {"service": f"svc-{node}", "host": node}
            out.append(Sourced("metrics.jsonl", MetricPoint(ts, "cpu", 1.0, labels), offset=i))
    return out


def intake(rules: str = "logs: {}\n") -> tuple[Intake, VigilMetrics, object]:
    ruleset = parse(rules)
    metrics = VigilMetrics()
    state = Pipeline.from_rules(ruleset).initial_state()
    return Intake.from_rules(ruleset.runtime, metrics), metrics, state


def test_a_fast_host_neither_rejects_others_nor_moves_event_time_and_is_reported() -> None:
    front, metrics, state = intake()
    batch = points(900.0)
    clock = max(item.event.ts for item in batch)  # a replay's clock: the newest event time
    events, rejected = front.admit(batch, state, clock=clock)
    assert (len(events), rejected) == (90, [])
    assert front.now(clock) == T0 + 290.0 - 300.0  # slowest host's newest - allowed lateness
    assert metrics.registry.get_sample_value("vigil_skewed_producers") == 1.0
    assert metrics.registry.get_sample_value("vigil_late_events_total", {"lateness": "late"}) == 0


def test_hosts_within_max_clock_skew_are_not_reported() -> None:
    front, metrics, state = intake("runtime:\n  max_clock_skew: 2m\n")
    batch = points(90.0)
    front.admit(batch, state, clock=max(item.event.ts for item in batch))
    assert metrics.registry.get_sample_value("vigil_skewed_producers") == 0.0
