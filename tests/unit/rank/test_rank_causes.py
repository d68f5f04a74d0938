from __future__ import annotations

from engine.events import (
    Change,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    TopologyEdge,
    TopologyNode,
)
from engine.rank.causes import CauseRanker
from engine.rank.scoring import score_candidates
from engine.rank.signals import SOLID_WEIGHT, build_view
from engine.testing import T0
from testing.examples import example_anomaly

RANKER = CauseRanker()


def _snap(anomalies, edges, changes=()) -> IncidentSnapshot:
    nodes = sorted({e.source for e in edges} | {e.target for e in edges})
    kinds = {e.target: "host" for e in edges if e.kind == "runs_on"}
    incident = Incident(
        "inc-x", IncidentStatus.OPEN, T0, T0, Severity.WARNING, "", tuple(a.id for a in anomalies)
    )
    return IncidentSnapshot(
        incident,
        tuple(anomalies),
        (),
        tuple(changes),
        tuple(TopologyNode(n, kinds.get(n, "service")) for n in nodes),
        tuple(edges),
    )


def _top(snap: IncidentSnapshot) -> list[str]:
    return [c.node for c in RANKER.rank(snap).root_causes]


CHAIN = [TopologyEdge("web", "api"), TopologyEdge("api", "db"), TopologyEdge("cart", "api")]


def test_callee_with_earliest_onset_ranks_first_even_when_callers_look_worse() -> None:
    anomalies = [
        example_anomaly("db", T0, 0.99),
        example_anomaly("api", T0 + 60, 0.999999),
        example_anomaly("web", T0 + 60, 0.9999999),
        example_anomaly("cart", T0 + 120, 0.9999999),
    ]
    assert _top(_snap(anomalies, CHAIN))[0] == "db"


def test_silent_dependency_is_named_when_its_dependents_point_to_it() -> None:
    edges = [
        TopologyEdge("a", "core"),
        TopologyEdge("b", "core"),
        TopologyEdge("c", "core"),
        TopologyEdge("a", "h1", "runs_on"),
        TopologyEdge("b", "h2", "runs_on"),
        TopologyEdge("c", "h3", "runs_on"),
        TopologyEdge("core", "h4", "runs_on"),
        TopologyEdge("x", "h1", "runs_on"),
    ]
    anomalies = [example_anomaly(n, T0 + i, 0.999) for i, n in enumerate("abc")]
    ranked = RANKER.rank(_snap(anomalies, edges)).root_causes
    assert ranked[0].node == "core"
    assert "no signals of its own" in " ".join(ranked[0].evidence)


def test_host_of_several_anomalous_services_ranks_first() -> None:
    edges = [
        TopologyEdge("a", "h1", "runs_on"),
        TopologyEdge("b", "h1", "runs_on"),
        TopologyEdge("front", "a"),
        TopologyEdge("front", "b"),
        TopologyEdge("c", "h2", "runs_on"),
    ]
    anomalies = [
        example_anomaly("h1", T0, 0.999),
        example_anomaly("a", T0 + 30, 0.9999),
        example_anomaly("b", T0 + 30, 0.9999),
        example_anomaly("front", T0 + 60, 0.99),
    ]
    ranked = RANKER.rank(_snap(anomalies, edges)).root_causes
    assert (ranked[0].node, ranked[0].kind) == ("h1", "host")


def test_recent_deploy_breaks_a_tie_and_is_cited_as_evidence() -> None:
    edges = [TopologyEdge("web", "a"), TopologyEdge("web", "b")]
    anomalies = [
        example_anomaly("a", T0, 0.999),
        example_anomaly("b", T0, 0.999),
        example_anomaly("web", T0 + 60, 0.999),
    ]
    change = Change(T0 - 120, "deploy", "b", "2.14.0")
    ranked = RANKER.rank(_snap(anomalies, edges, [change])).root_causes
    assert ranked[0].node == "b"
    assert ranked[0].evidence[0] == "deploy b 2.14.0 at 23:58, 2 min before first anomaly"


def test_innocent_deploy_on_a_caller_does_not_outrank_the_failing_callee() -> None:
    anomalies = [
        example_anomaly("db", T0, 0.999),
        example_anomaly("api", T0 + 60, 0.999),
        example_anomaly("web", T0 + 120, 0.999),
    ]
    change = Change(T0 - 300, "deploy", "web", "9.9")
    assert _top(_snap(anomalies, CHAIN, [change]))[0] == "db"


def test_ranking_is_a_distribution_with_summary_and_evidence() -> None:
    anomalies = [example_anomaly("db", T0, 0.99), example_anomaly("api", T0 + 60, 0.999)]
    incident = RANKER.rank(_snap(anomalies, CHAIN))
    scores = [c.score for c in incident.root_causes]
    assert scores == sorted(scores, reverse=True)
    assert 0.99 <= sum(scores) <= 1.0001
    assert all(c.evidence for c in incident.root_causes)
    assert incident.summary.startswith("probable cause db")
    assert incident.alerts == tuple(a.id for a in anomalies)


def test_empty_snapshot_has_no_causes() -> None:
    assert RANKER.rank(_snap([], CHAIN)).root_causes == ()


def _episode(node: str, start: float, minutes: int, score: float = 0.9999) -> list:
    return [example_anomaly(node, start + 60 * m, score) for m in range(minutes)]


def _features(snap: IncidentSnapshot, node: str) -> dict[str, float]:
    view = build_view(snap)
    return next(c.features for c in score_candidates(view, snap.changes) if c.node == node)


def test_silent_callee_of_callers_failing_together_ranks_above_them() -> None:
    edges = [TopologyEdge("a", "core"), TopologyEdge("b", "core"), TopologyEdge("a", "x")]
    snap = _snap(_episode("a", T0, 10) + _episode("b", T0 + 60, 10), edges)
    ranked = _top(snap)
    assert ranked[0] == "core"
    assert ranked.index("core") < ranked.index("x")  # x explains only one of them
    assert _features(snap, "core")["silent"] == 0.0


def test_silent_callee_of_a_single_failing_caller_keeps_its_penalty() -> None:
    edges = [TopologyEdge("a", "core"), TopologyEdge("b", "core")]
    snap = _snap(_episode("a", T0, 10), edges)
    assert _top(snap)[0] == "a"
    assert _features(snap, "core")["silent"] == 1.0


def test_a_stray_point_or_a_short_blip_sets_no_onset_and_is_not_solid() -> None:
    anomalies = [
        example_anomaly("web", T0 - 1200, 0.9999),  # one stray point
        *_episode("web", T0 + 120, 18),
        *_episode("api", T0 - 600, 2),  # a 2-minute blip
        *_episode("db", T0, 20),
    ]
    view = build_view(_snap(anomalies, CHAIN))
    assert view.signals["web"].onset == T0 + 120
    assert view.signals["api"].weight < SOLID_WEIGHT <= view.signals["db"].weight
    assert view.first_onset == T0
    assert _top(_snap(anomalies, CHAIN))[0] == "db"


def test_a_deploy_on_a_caller_whose_callee_failed_first_is_not_the_cause() -> None:
    anomalies = _episode("db", T0, 15) + _episode("api", T0 + 60, 14, 0.999999)
    change = Change(T0 - 60, "deploy", "api", "9.9")
    ranked = RANKER.rank(_snap(anomalies, CHAIN, [change])).root_causes
    assert [c.node for c in ranked[:2]] == ["db", "api"]
