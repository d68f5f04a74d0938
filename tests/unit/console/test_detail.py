"""ConsoleRecorder + incident_detail: what the incident page is given, from literal events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.console.detail import incident_detail, incident_summary, suggest_matchers
from connectors.console.graph import layout, neighbourhood
from connectors.console.recorder import Acknowledgement, ConsoleRecorder
from engine.correlate.topology import Topology
from engine.events import (
    Action,
    ActionStatus,
    Anomaly,
    AnomalyKind,
    Change,
    Incident,
    IncidentStatus,
    MetricPoint,
    RootCause,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)

LABELS = {"service": "api", "cluster": "eu-1"}
TOPOLOGY = TopologyUpdate(
    0.0,
    TopologyMode.REPLACE,
    (TopologyNode("web"), TopologyNode("api"), TopologyNode("db"), TopologyNode("h1", "host")),
    (
        TopologyEdge("web", "api"),
        TopologyEdge("api", "db"),
        TopologyEdge("api", "h1", "runs_on"),
        TopologyEdge("db", "h1", "runs_on"),
    ),
)


def _anomaly(anomaly_id: str, ts: float, node: str, value: float) -> Anomaly:
    labels = {"service": node, "cluster": "eu-1"}
    detail: dict[str, Any] = {"value": value, "expected": 1.0, "band": [0.8, 1.2]}
    subject: dict[str, Any] = {"name": "latency", "labels": labels}
    return Anomaly(anomaly_id, ts, AnomalyKind.METRIC, node, subject, 1.0, Severity.ERROR, detail)


def _incident(revision: int, status: IncidentStatus, updated_at: float) -> Incident:
    causes = (
        RootCause("api", 0.9, "service", ("deploy api 1.2",)),
        RootCause("db", 0.1, "service"),
    )
    return Incident(
        "inc-1",
        status,
        120.0,
        updated_at,
        Severity.ERROR,
        "api slow",
        ("an-1", "an-2", "an-3"),
        causes,
        ("api", "web"),
        {},
        revision,
    )


def _recorded() -> ConsoleRecorder:
    rec = ConsoleRecorder()
    rec.observe([TOPOLOGY, Change(60.0, "deploy", "api", "1.2", "rollout of api 1.2")], [])
    for ts in range(0, 300, 60):
        points = [MetricPoint(float(ts), "latency", 1.0 if ts < 120 else 5.0, LABELS)]
        rec.observe(points, [])
        if ts == 120:
            rec.observe(
                [], [_anomaly("an-1", 120.0, "api", 5.0), _incident(1, IncidentStatus.OPEN, 120)]
            )
    rec.observe([], [_anomaly("an-2", 180.0, "api", 5.0), _anomaly("an-3", 180.0, "web", 3.0)])
    rec.observe([], [_incident(2, IncidentStatus.RESOLVED, 240.0)])
    decided = Action("act-1", 130.0, "inc-1", "pager", "webhook", "inc-1")
    rec.observe([], [decided])
    rec.record_actions(
        [
            Action(
                "act-1",
                130.0,
                "inc-1",
                "pager",
                "webhook",
                "inc-1",
                status=ActionStatus.DELIVERED,
                attempts=2,
            )
        ]
    )
    rec.observe([], [decided])  # a replayed decision does not hide the delivery result
    return rec


def test_detail_gathers_graph_series_timeline_and_actions() -> None:
    rec = _recorded()
    detail = incident_detail(rec, _incident(2, IncidentStatus.RESOLVED, 240.0))
    nodes = {n["id"]: n for n in detail["graph"]["nodes"]}
    assert set(nodes) == {"web", "api", "db", "h1"}
    assert nodes["api"]["cause_rank"] == 1
    assert nodes["db"]["cause_rank"] == 2
    assert [n for n in nodes if nodes[n]["anomalous"]] == ["api", "web"]
    assert nodes["web"]["y"] < nodes["api"]["y"] < nodes["db"]["y"] < nodes["h1"]["y"]
    first = detail["series"][0]
    assert first["node"] == "api"  # the top cause's series comes first
    assert first["onset"] == 120.0
    assert [p[0] for p in first["points"]] == [0.0, 60.0, 120.0, 180.0, 240.0]
    assert first["band"][0] == [120.0, 1.0, 0.8, 1.2]
    kinds = [(r["kind"], r["title"]) for r in detail["timeline"]]
    assert kinds[0] == ("change", "rollout of api 1.2")
    assert ("incident", "incident resolved") in kinds
    api_rows = [r for r in detail["timeline"] if r["kind"] == "anomaly" and r["node"] == "api"]
    assert [(r["count"], r["ts"], r["until"]) for r in api_rows] == [(2, 120.0, 180.0)]
    assert [(a["status"], a["attempts"]) for a in detail["actions"]] == [("delivered", 2)]
    assert detail["now"] == 240.0


def test_summary_lists_labels_services_and_acknowledgement() -> None:
    rec = _recorded()
    incident = _incident(2, IncidentStatus.RESOLVED, 240.0)
    assert incident_summary(rec, incident)["ack"] is None
    rec.acknowledge(Acknowledgement("inc-1", "ana", 300.0))
    row = incident_summary(rec, incident)
    assert row["ack"] == {"by": "ana", "at": 300.0, "comment": ""}
    assert row["services"] == ["api", "web"]
    assert row["top_cause"]["node"] == "api"
    assert "cluster=eu-1" in row["label_pairs"]
    assert row["alert_count"] == 3


def test_silence_matchers_prefer_incident_labels_then_services_and_shared_labels() -> None:
    rec = _recorded()
    incident = _incident(2, IncidentStatus.RESOLVED, 240.0)
    anomalies, alerts = rec.members_of(incident)
    assert suggest_matchers(incident, anomalies, alerts) == ["service=~api|web", "cluster=eu-1"]
    labelled = Incident(
        "inc-2",
        IncidentStatus.OPEN,
        0.0,
        0.0,
        Severity.INFO,
        "",
        (),
        labels={"team": "pay", "env": "prod"},
    )
    assert suggest_matchers(labelled, [], []) == ["env=prod", "team=pay"]


def test_silence_suggestion_of_an_incident_with_shared_labels_names_its_services() -> None:
    rec = _recorded()
    incident = _incident(2, IncidentStatus.RESOLVED, 240.0)
    anomalies, alerts = rec.members_of(incident)
    labelled = replace(incident, labels={"cluster": "eu-1"})  # its members' common labels
    assert suggest_matchers(labelled, anomalies, alerts) == ["service=~api|web", "cluster=eu-1"]


def test_layout_survives_call_cycles_and_places_every_node() -> None:
    topo = Topology.build(
        [TopologyNode("a"), TopologyNode("b"), TopologyNode("c"), TopologyNode("h", "host")],
        [
            TopologyEdge("a", "b"),
            TopologyEdge("b", "a"),
            TopologyEdge("b", "c"),
            TopologyEdge("c", "h", "runs_on"),
        ],
    )
    positions = layout(neighbourhood(topo, ["b"]))
    assert set(positions) == {"a", "b", "c", "h"}
    assert positions["a"][1] == positions["b"][1] < positions["c"][1] < positions["h"][1]


def test_neighbourhood_stops_at_two_hops() -> None:
    topo = Topology.build([], [TopologyEdge(f"s{i}", f"s{i + 1}") for i in range(6)])
    assert set(neighbourhood(topo, ["s3"])) == {"s1", "s2", "s3", "s4", "s5"}
