"""The embedded runtime exports the incident stage's late events like the worker does."""

from __future__ import annotations

from pathlib import Path

import orjson

from connectors.metrics import VigilMetrics
from connectors.replay import ReplayOptions, replay
from engine.events import Action
from engine.rules.schema import parse
from engine.testing import T0


def _alert(ts: float, node: str) -> bytes:
    return orjson.dumps({"ts": ts, "name": "HighErrorRate", "status": "firing",
                         "severity": "error", "labels": {"service": node}})


def test_an_alert_behind_the_incident_stage_is_counted_late(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    # a new producer's old alert arrives after the stage released past it: late, not rejected
    lines = [_alert(T0 + 3 * 3600.0, "api"), _alert(T0, "db")]
    (tmp_path / "in" / "alerts.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    metrics = VigilMetrics()

    def deliver(actions: list[Action]) -> list[Action]:
        return actions

    result = replay(tmp_path / "in", tmp_path / "out", parse(""), deliver,
                    ReplayOptions(metrics=metrics, batch_events=1))
    late = metrics.registry.get_sample_value("vigil_incident_late_events_total",
                                             {"lateness": "late"})
    assert late == 1.0
    assert (tmp_path / "out" / "dead_letters.jsonl").read_bytes() == b""
    assert result.events_in == 2
