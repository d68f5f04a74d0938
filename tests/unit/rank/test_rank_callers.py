"""Caller-side evidence: series a caller measures on its calls to a node (``caller`` label)."""

from __future__ import annotations

import dataclasses

from engine.events import (
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    TopologyEdge,
    TopologyNode,
)
from engine.rank.causes import CauseRanker
from engine.testing import T0
from testing.examples import example_anomaly

EDGES = (
    TopologyEdge("web", "checkout"),
    TopologyEdge("web", "pay"),
    TopologyEdge("checkout", "pay"),
    TopologyEdge("checkout", "email"),
)


def _seen_by(caller: str, callee: str, ts: float):
    """A network delay on ``callee``: only its callers' client-side duration moves."""
    an = example_anomaly(callee, ts, 0.9999, name="call_latency_p50_seconds")
    labels = {"service": callee, "caller": caller}
    return dataclasses.replace(
        an, id=f"{an.id}-{caller}", subject={"name": an.subject["name"], "labels": labels}
    )


def _snapshot() -> IncidentSnapshot:
    anomalies = (
        _seen_by("checkout", "pay", T0),
        _seen_by("web", "pay", T0),
        _seen_by("checkout", "pay", T0 + 60),
        example_anomaly("checkout", T0 + 60, 0.999, name="client_latency_p90_seconds"),
        example_anomaly("checkout", T0 + 120, 0.999, name="client_latency_p90_seconds"),
    )
    incident = Incident(
        "inc-c",
        IncidentStatus.OPEN,
        T0,
        T0 + 120,
        Severity.WARNING,
        "",
        tuple(a.id for a in anomalies),
    )
    nodes = tuple(TopologyNode(n) for n in ("web", "checkout", "pay", "email"))
    return IncidentSnapshot(incident, anomalies, nodes=nodes, edges=EDGES)


def test_a_callee_slow_as_its_callers_see_it_is_named_with_those_callers() -> None:
    ranked = CauseRanker().rank(_snapshot())
    top = ranked.root_causes[0]
    assert top.node == "pay"
    assert "slow or failing as its callers see it: checkout, web" in top.evidence
    assert ranked.summary.startswith(
        "probable cause pay (service): latency; slow or failing as its callers see it"
        " (checkout, web)"
    )


def test_a_node_with_only_its_own_series_gets_no_caller_evidence() -> None:
    ranked = CauseRanker().rank(_snapshot())
    checkout = next(c for c in ranked.root_causes if c.node == "checkout")
    assert not any("callers see it" in e for e in checkout.evidence)


def test_no_cause_shows_a_higher_score_than_one_ranked_above_it() -> None:
    """One weak anomaly on a service: its host (no signals, one anomalous resident) ranks
    after it and must not look more probable than it."""
    an = example_anomaly("ad", T0, 0.99)
    incident = Incident("inc-h", IncidentStatus.OPEN, T0, T0, Severity.WARNING, "", (an.id,))
    edges = (TopologyEdge("ad", "h1", "runs_on"), TopologyEdge("web", "ad"))
    nodes = (TopologyNode("ad"), TopologyNode("h1", "host"), TopologyNode("web"))
    causes = CauseRanker().rank(IncidentSnapshot(incident, (an,), nodes=nodes, edges=edges))
    assert causes.root_causes[0].node == "ad"
    scores = [c.score for c in causes.root_causes]
    assert scores == sorted(scores, reverse=True), causes.root_causes
