"""The live topology graph (networkx): who depends on whom, updated by ``TopologyUpdate`` events.

Edge ``a -> b`` means ``a`` depends on ``b`` (calls, depends_on, runs_on): a fault in ``b``
shows up as symptoms in ``a``. Cycles are allowed. Nodes that appear only in alerts or
anomalies are added with ``flagged=True`` and no edges. A node that has telemetry (a metric
point or log line arrived: the detect stage's telemetry mark, ``engine.detect.telemetry``) or
has ever had an anomaly, a recovery-watch hold or an alert is ``observed``: its silence now is
evidence that it is fine, where an unobserved node's silence says nothing (it has no
telemetry at all).
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

import networkx as nx

from engine.events import TopologyEdge, TopologyMode, TopologyNode, TopologyUpdate
from engine.vocabulary import JsonDict


class Topology:
    """A directed dependency graph with plain-data (de)serialization.

    Examples
    --------
    >>> topo = Topology.build([TopologyNode("web")], [TopologyEdge("web", "db")])
    >>> topo.ensure_node("cache")
    >>> sorted(topo.related_nodes("db", max_hops=2)), topo.is_flagged("cache")
    (['db', 'web'], True)
    """

    __slots__ = ("graph",)

    def __init__(self, graph: nx.DiGraph | None = None) -> None:
        self.graph: nx.DiGraph = graph if graph is not None else nx.DiGraph()

    @classmethod
    def build(cls, nodes: Iterable[TopologyNode], edges: Iterable[TopologyEdge]) -> Topology:
        topo = cls()
        topo.upsert(nodes, edges)
        return topo

    # -- updates -----------------------------------------------------------------------------

    def apply(self, update: TopologyUpdate) -> None:
        """Apply a replace / upsert / delete record (see the wire contract)."""
        if update.mode is TopologyMode.REPLACE:
            flagged = [n for n in self.graph.nodes if self.is_flagged(n)]
            observed = [n for n in self.graph.nodes if self.is_observed(n)]
            self.graph = nx.DiGraph()
            self.upsert(update.nodes, update.edges)
            for node in flagged:
                self.ensure_node(node)
            for node in observed:
                if node in self.graph:
                    self.graph.nodes[node]["observed"] = True
        elif update.mode is TopologyMode.UPSERT:
            self.upsert(update.nodes, update.edges)
        else:
            self.delete(update.nodes, update.edges)

    def upsert(self, nodes: Iterable[TopologyNode], edges: Iterable[TopologyEdge]) -> None:
        for node in nodes:
            self.graph.add_node(node.id, kind=node.kind, flagged=False)
        for edge in edges:
            for end in (edge.source, edge.target):
                if end not in self.graph:
                    self.graph.add_node(end, kind="host" if _is_host_end(edge, end) else "service")
                    self.graph.nodes[end]["flagged"] = False
                elif self.graph.nodes[end].get("flagged"):
                    self.graph.nodes[end]["flagged"] = False
            self.graph.add_edge(edge.source, edge.target, kind=edge.kind)

    def delete(self, nodes: Iterable[TopologyNode], edges: Iterable[TopologyEdge]) -> None:
        for edge in edges:
            if self.graph.has_edge(edge.source, edge.target):
                self.graph.remove_edge(edge.source, edge.target)
        for node in nodes:
            if node.id in self.graph:
                self.graph.remove_node(node.id)

    def ensure_node(self, node: str, kind: str = "service") -> None:
        """Add a node seen only in alerts/anomalies, flagged as unknown to the topology."""
        if node not in self.graph:
            self.graph.add_node(node, kind=kind, flagged=True)

    def observe(self, node: str, kind: str = "service") -> None:
        """``node`` has telemetry: a telemetry mark, an anomaly, a hold or an alert (module doc)."""
        self.ensure_node(node, kind)
        self.graph.nodes[node]["observed"] = True

    # -- queries -----------------------------------------------------------------------------

    def is_flagged(self, node: str) -> bool:
        return bool(self.graph.nodes[node].get("flagged", False)) if node in self.graph else True

    def is_observed(self, node: str) -> bool:
        return node in self.graph and bool(self.graph.nodes[node].get("observed", False))

    def kind_of(self, node: str) -> str:
        if node not in self.graph:
            return "service"
        return str(self.graph.nodes[node].get("kind", "service"))

    def related_nodes(
        self, node: str, max_hops: int, via: Container[str] | None = None
    ) -> set[str]:
        """Nodes whose faults and symptoms can be linked to ``node``'s.

        Its dependencies and dependents within ``max_hops`` (a chain of callers or callees),
        plus nodes sharing a direct dependency with it (a shared host or a shared callee).
        With ``via`` (e.g. the nodes that are themselves anomalous), only through ``via``:
        a shared dependency in ``via``, and a chain past its first hop only through nodes
        in ``via`` (a caller two hops away behind a healthy middle node is not linked).
        """
        if node not in self.graph:
            return {node}
        down = _reach(self.graph.succ, node, max_hops, via)
        up = _reach(self.graph.pred, node, max_hops, via)
        shared: set[str] = set()
        for dep in self.graph.succ[node]:
            if via is None or dep in via:
                shared.update(self.graph.pred[dep])
        return down | up | shared | {node}

    def dependencies(self, node: str, max_hops: int) -> set[str]:
        """What ``node`` depends on (calls, depends_on, runs_on) within ``max_hops``."""
        if node not in self.graph:
            return set()
        return _reach(self.graph.succ, node, max_hops) - {node}

    def neighbourhood(
        self, nodes: Iterable[str], hops: int = 2
    ) -> tuple[tuple[TopologyNode, ...], tuple[TopologyEdge, ...]]:
        """Nodes within ``hops`` (either direction) of ``nodes``, and the edges among them."""
        seeds = [n for n in nodes if n in self.graph]
        seen = set(seeds)
        frontier = seeds
        for _ in range(hops):
            nxt: list[str] = []
            for n in frontier:
                for m in (*self.graph.succ[n], *self.graph.pred[n]):
                    if m not in seen:
                        seen.add(m)
                        nxt.append(m)
            frontier = nxt
        out_nodes = tuple(TopologyNode(n, self.kind_of(n)) for n in sorted(seen))
        out_edges = tuple(
            TopologyEdge(a, b, str(self.graph.edges[a, b].get("kind", "calls")))
            for a in sorted(seen)
            for b in sorted(self.graph.succ[a])
            if b in seen
        )
        return out_nodes, out_edges

    # -- serialization -----------------------------------------------------------------------

    def to_dict(self) -> JsonDict:
        return {
            "nodes": [
                [n, self.kind_of(n), self.is_flagged(n), self.is_observed(n)]
                for n in self.graph.nodes
            ],
            "edges": [
                [a, b, str(d.get("kind", "calls"))] for a, b, d in self.graph.edges(data=True)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topology:
        graph = nx.DiGraph()
        for node, kind, flagged, observed in data["nodes"]:
            graph.add_node(node, kind=kind, flagged=bool(flagged), observed=bool(observed))
        for a, b, kind in data["edges"]:
            graph.add_edge(a, b, kind=kind)
        return cls(graph)


def _is_host_end(edge: TopologyEdge, end: str) -> bool:
    return edge.kind == "runs_on" and end == edge.target


def _reach(
    adjacency: Any, start: str, max_hops: int, via: Container[str] | None = None
) -> set[str]:
    """Nodes within ``max_hops`` of ``start``; with ``via``, reached past the first hop only
    through nodes in ``via``."""
    seen = {start}
    frontier = [start]
    for _ in range(max_hops):
        nxt = [m for n in frontier for m in adjacency[n] if m not in seen]
        seen.update(nxt)
        frontier = nxt if via is None else [m for m in nxt if m in via]
    return seen
