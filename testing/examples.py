"""A small literal incident stream for doctests and the conformance suite (pure, no I/O).

Topology: ``web -> api -> db`` and ``web -> mail``, all on host ``h1`` except ``mail``. A bad
deploy of ``db`` at T0+60 s; db, api, web degrade; an Alertmanager alert fires (and flaps) on
api; an unrelated anomaly on ``mail`` much later; the graph gains a ``cache`` edge live.
"""

from __future__ import annotations

from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    EventTime,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
    stable_id,
)
from engine.testing import T0

EXAMPLE_NODES = (
    TopologyNode("web"),
    TopologyNode("api"),
    TopologyNode("db", "datastore"),
    TopologyNode("mail"),
    TopologyNode("h1", "host"),
    TopologyNode("h2", "host"),
)
EXAMPLE_EDGES = (
    TopologyEdge("web", "api"),
    TopologyEdge("api", "db"),
    TopologyEdge("web", "mail"),
    TopologyEdge("web", "h1", "runs_on"),
    TopologyEdge("api", "h1", "runs_on"),
    TopologyEdge("db", "h1", "runs_on"),
    TopologyEdge("mail", "h2", "runs_on"),
)


def example_anomaly(node: str, ts: EventTime, score: float, name: str = "latency") -> Anomaly:
    """A metric anomaly on ``node`` at ``ts`` (id derived from both)."""
    return Anomaly(
        id=stable_id("an", node, name, ts),
        ts=ts,
        kind=AnomalyKind.METRIC,
        node=node,
        subject={"name": name, "labels": {"service": node}},
        score=score,
        severity=Severity.CRITICAL if score > 0.999 else Severity.WARNING,
        labels={"service": node},
    )


def example_alert(ts: EventTime, status: str, node: str = "api") -> Alert:
    return Alert(
        ts=ts,
        name="HighErrorRate",
        status=AlertStatus(status),
        severity=Severity.ERROR,
        fingerprint=f"fp-{node}",
        labels={"service": node, "cluster": "eu-1"},
    )


def example_stream() -> list[Anomaly | Alert | Change | TopologyUpdate]:
    """About 40 events over two hours, sorted by ts."""
    events: list[Anomaly | Alert | Change | TopologyUpdate] = [
        Change(T0 + 60, "deploy", "db", "2.14.0", "rollout of db 2.14.0"),
    ]
    for minute in range(3, 15):
        ts = T0 + 60 * minute
        events.append(example_anomaly("db", ts, 0.995))
        if minute >= 4:
            events.append(example_anomaly("api", ts, 0.9999))
        if minute >= 5:
            events.append(example_anomaly("web", ts, 0.99))
    for minute, status in [(5, "firing"), (7, "firing"), (8, "resolved"), (9, "firing")]:
        events.append(example_alert(T0 + 60 * minute + 1, status))
    for minute, status in [(10, "resolved"), (11, "firing"), (12, "resolved")]:
        events.append(example_alert(T0 + 60 * minute + 1, status))
    events.append(
        TopologyUpdate(
            T0 + 1800,
            TopologyMode.UPSERT,
            (TopologyNode("cache"),),
            (TopologyEdge("api", "cache"),),
        )
    )
    events.append(example_anomaly("mail", T0 + 5400, 0.999))
    events.append(example_anomaly("mail", T0 + 5460, 0.999))
    events.append(example_anomaly("ghost", T0 + 5460, 0.99))
    return sorted(events, key=lambda e: e.ts)
