from __future__ import annotations

from engine.correlate.topology import Topology
from engine.events import TopologyEdge, TopologyMode, TopologyNode, TopologyUpdate
from engine.testing import T0


def _topo() -> Topology:
    return Topology.build(
        [TopologyNode("web"), TopologyNode("api"), TopologyNode("db"), TopologyNode("h1", "host")],
        [
            TopologyEdge("web", "api"),
            TopologyEdge("api", "db"),
            TopologyEdge("web", "h1", "runs_on"),
            TopologyEdge("db", "h1", "runs_on"),
        ],
    )


def test_related_nodes_follow_dependency_chains_and_shared_hosts() -> None:
    topo = _topo()
    assert topo.related_nodes("db", max_hops=1) == {"db", "api", "h1", "web"}
    assert topo.related_nodes("web", max_hops=1) == {"web", "api", "h1", "db"}
    assert topo.related_nodes("api", max_hops=0) == {"api"}


def test_upsert_and_delete_change_the_graph() -> None:
    topo = _topo()
    topo.apply(TopologyUpdate(T0, TopologyMode.UPSERT, (), (TopologyEdge("db", "disk"),)))
    assert topo.graph.has_edge("db", "disk")
    assert not topo.is_flagged("disk")
    topo.apply(TopologyUpdate(T0, TopologyMode.DELETE, (TopologyNode("api"),), ()))
    assert "api" not in topo.graph
    assert not topo.graph.has_edge("web", "api")


def test_replace_keeps_only_new_graph_and_flagged_nodes() -> None:
    topo = _topo()
    topo.ensure_node("ghost")
    topo.apply(
        TopologyUpdate(T0, TopologyMode.REPLACE, (TopologyNode("a"),), (TopologyEdge("a", "b"),))
    )
    assert sorted(topo.graph.nodes) == ["a", "b", "ghost"]
    assert topo.is_flagged("ghost")
    assert not topo.is_flagged("a")


def test_cycles_are_allowed_and_neighbourhood_is_two_hops() -> None:
    topo = Topology.build(
        [],
        [
            TopologyEdge("a", "b"),
            TopologyEdge("b", "c"),
            TopologyEdge("c", "a"),
            TopologyEdge("c", "d"),
            TopologyEdge("d", "e"),
        ],
    )
    nodes, edges = topo.neighbourhood(["a"], hops=2)
    assert [n.id for n in nodes] == ["a", "b", "c", "d"]
    assert ("c", "a") in {(e.source, e.target) for e in edges}


def test_round_trip_keeps_kinds_flags_and_edges() -> None:
    topo = _topo()
    topo.ensure_node("ghost")
    again = Topology.from_dict(topo.to_dict())
    assert again.to_dict() == topo.to_dict()
    assert again.kind_of("h1") == "host"
    assert again.is_flagged("ghost")
