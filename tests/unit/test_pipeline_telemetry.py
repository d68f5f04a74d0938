"""Links through a shared callee: only when the callee has no telemetry (or is in the incident).

``web`` and ``fraud`` both call ``checkout``. ``web`` fails, ``fraud`` fails 12 minutes later.
When ``checkout`` reports metrics and stays healthy, the two are separate problems: two
incidents. When ``checkout`` reports nothing at all (an unobserved root behind its callers),
its silence says nothing and the two are one incident. On main before this test both cases
gave one incident: the correlator took "never had an anomaly, hold or alert" for "has no
telemetry", so a healthy callee that never blipped bridged the two faults.
"""

from __future__ import annotations

from typing import Any

from engine.events import (
    Alert,
    AlertStatus,
    Incident,
    MetricPoint,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyUpdate,
)
from engine.pipeline import Pipeline
from engine.rules.schema import parse
from engine.testing import T0

CALLS = (TopologyEdge("web", "checkout"), TopologyEdge("fraud", "checkout"))
TOPOLOGY = TopologyUpdate(T0, TopologyMode.REPLACE, (), CALLS)


def _alert(service: str, ts: float) -> Alert:
    return Alert(ts, "HighErrorRate", AlertStatus.FIRING, Severity.ERROR, f"fp-{service}",
                 {"alertname": "HighErrorRate", "service": service, "severity": "error"})


def _homes(checkout_reports: bool) -> dict[str, str]:
    """The incident each alert ends in (its last record listing it) after ``web`` then
    ``fraud`` fail."""
    pipeline = Pipeline.from_rules(parse("correlation:\n  confirm_s: 0\n"), None)
    state, out = pipeline.advance(pipeline.initial_state(), [TOPOLOGY], now=T0)
    outputs: list[Any] = list(out)
    for minute in range(30):
        ts = T0 + 60.0 * minute
        events: list[Any] = []
        if checkout_reports:  # healthy: a flat request rate
            events.append(MetricPoint(ts, "requests_per_second", 50.0, {"service": "checkout"}))
        if minute == 5:
            events.append(_alert("web", ts))
        if minute == 17:
            events.append(_alert("fraud", ts))
        state, out = pipeline.advance(state, events, now=ts)
        outputs += out
    homes = {a: o.id for o in outputs if isinstance(o, Incident) for a in o.alerts}
    assert set(homes) == {"am-fp-web", "am-fp-fraud"}
    return homes


def test_callers_of_a_healthy_callee_with_telemetry_failing_apart_are_two_incidents() -> None:
    homes = _homes(checkout_reports=True)
    assert homes["am-fp-web"] != homes["am-fp-fraud"]


def test_callers_of_a_callee_without_telemetry_are_one_incident() -> None:
    homes = _homes(checkout_reports=False)
    assert homes["am-fp-web"] == homes["am-fp-fraud"]
