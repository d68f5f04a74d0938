"""The topology neighbourhood of an incident, laid out with networkx for the page to draw as SVG.

Nodes within two hops (callers, callees, hosts) of the incident's nodes and its top causes are
placed in layers: callers above the services they call, hosts at the bottom (``runs_on``). The
layers come from ``networkx.topological_generations`` on the condensation of the graph (so call
cycles are fine); inside a layer, nodes are ordered by the mean position of their callers to
keep edges from crossing; ``networkx.multipartite_layout`` gives the coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import networkx as nx

from engine.correlate.topology import Topology

MAX_NODES: Final = 60
WIDTH: Final = 960.0
LAYER_HEIGHT: Final = 105.0
MARGIN: Final = 40.0
SIDE_MARGIN: Final = 90.0


def neighbourhood(topology: Topology, seeds: Iterable[str], hops: int = 2) -> nx.DiGraph:
    """The subgraph within ``hops`` of ``seeds`` (nearest first, at most ``MAX_NODES``)."""
    graph = topology.graph
    chosen = [s for s in dict.fromkeys(seeds)]
    seen = set(chosen)
    frontier = [s for s in chosen if s in graph]
    for _ in range(hops):
        nxt = []
        for node in frontier:
            for other in sorted({*graph.succ[node], *graph.pred[node]}):
                if other not in seen and len(seen) < MAX_NODES:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
    sub = nx.DiGraph()
    for node in sorted(seen):
        sub.add_node(node, kind=topology.kind_of(node))
    sub.add_edges_from((a, b, d) for a, b, d in graph.subgraph(seen).edges(data=True))
    return sub


def _layers(sub: nx.DiGraph) -> dict[str, int]:
    """Layer of each node: 0 for callers nobody calls, hosts in the last layer."""
    hosts = {n for n, kind in sub.nodes(data="kind") if kind == "host"}
    services = sub.subgraph([n for n in sub if n not in hosts])
    dag = nx.condensation(services)
    layer: dict[str, int] = {}
    for depth, generation in enumerate(nx.topological_generations(dag)):
        for component in generation:
            for node in dag.nodes[component]["members"]:
                layer[node] = depth
    bottom = max(layer.values(), default=-1) + 1
    layer.update({h: bottom for h in hosts})
    return layer


def layout(sub: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Pixel positions ``{node: (x, y)}`` in a ``WIDTH``-wide box, layer by layer downwards."""
    if sub.number_of_nodes() == 0:
        return {}
    layer = _layers(sub)
    order: dict[str, float] = {}
    subsets: dict[int, list[str]] = {}
    for depth in sorted(set(layer.values())):
        members = sorted(
            (n for n in sub if layer[n] == depth), key=lambda n: (_barycenter(sub, n, order), n)
        )
        for i, node in enumerate(members):
            order[node] = i / max(1, len(members) - 1)
        subsets[depth] = members
    raw = nx.multipartite_layout(sub, subset_key=subsets, align="horizontal", scale=1.0)
    return _to_pixels(raw, layer)


def _barycenter(sub: nx.DiGraph, node: str, order: Mapping[str, float]) -> float:
    placed = [order[p] for p in sub.pred[node] if p in order]
    return sum(placed) / len(placed) if placed else 0.5


def _to_pixels(raw: Mapping[str, Any], layer: Mapping[str, int]) -> dict[str, tuple[float, float]]:
    xs = [float(p[0]) for p in raw.values()]
    low, high = min(xs), max(xs)
    span = (high - low) or 1.0
    out = {}
    for node, pos in raw.items():
        x = SIDE_MARGIN + (float(pos[0]) - low) / span * (WIDTH - 2 * SIDE_MARGIN)
        if high == low:
            x = WIDTH / 2
        out[node] = (round(x, 1), round(MARGIN + layer[node] * LAYER_HEIGHT, 1))
    return out


def graph_payload(
    sub: nx.DiGraph, anomalous: Iterable[str], cause_rank: Mapping[str, int]
) -> dict[str, Any]:
    """JSON for the page: nodes with positions and highlights, edges, and the box size."""
    positions = layout(sub)
    hot = set(anomalous)
    nodes = [
        {
            "id": n,
            "kind": sub.nodes[n].get("kind", "service"),
            "x": positions[n][0],
            "y": positions[n][1],
            "anomalous": n in hot,
            "cause_rank": cause_rank.get(n),
        }
        for n in sorted(sub)
    ]
    edges = [
        {"source": a, "target": b, "kind": d.get("kind", "calls")}
        for a, b, d in sub.edges(data=True)
    ]
    height = max((p[1] for p in positions.values()), default=0.0) + MARGIN
    return {"nodes": nodes, "edges": edges, "width": WIDTH, "height": height}
