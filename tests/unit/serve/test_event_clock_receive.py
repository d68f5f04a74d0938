"""``vigil serve --clock event`` receives requests at the newest event time accepted; a restart
recovers it from the checkpoint and the journal after it, so a notification received right
after a restart gets the time an uninterrupted run would give it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connectors.serve.clock import ServeClock
from connectors.serve.runtime import LiveRuntime, ServeOptions
from engine.events import Action, MetricPoint, Rejected
from engine.rules import RuleSet

T0 = 1_764_115_200.0


def _no_receivers(actions: list[Action]) -> list[Action]:
    return []


def _runtime(state: Path) -> LiveRuntime:
    return LiveRuntime(RuleSet(), state, _no_receivers, ServeOptions(clock=ServeClock.EVENT))


def _crash(runtime: LiveRuntime) -> None:
    """Let go of the folder as a killed process does: no checkpoint, no drain."""
    runtime.journal.close()
    runtime.lock.close()


def _points(*seconds: float) -> list[MetricPoint]:
    return [MetricPoint(T0 + s, "latency", 0.2, {"service": "payments"}) for s in seconds]


def test_the_newest_accepted_event_time_survives_a_restart(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    assert runtime.ingest.event_time() is None  # nothing accepted yet
    assert asyncio.run(runtime.ingest([*_points(0, 60), Rejected("http:metrics", "x", b"")]))
    runtime.catch_up()
    runtime.checkpoint()  # covers t0 + 60
    assert asyncio.run(runtime.ingest(_points(120, 90)))  # accepted, not yet run
    assert runtime.ingest.event_time() == T0 + 120
    _crash(runtime)
    runtime = _runtime(tmp_path)  # from the checkpoint and the journal after it
    assert runtime.ingest.event_time() == T0 + 120
    runtime.catch_up()
    runtime.checkpoint()
    _crash(runtime)
    assert _runtime(tmp_path).ingest.event_time() == T0 + 120  # from the checkpoint alone
