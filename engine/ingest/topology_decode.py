"""Topology records: a whole graph (replace), ``{"upsert": {...}}`` or ``{"delete": {...}}``.

Nodes are ``{"id", "kind"}`` objects (kind defaults to ``service``; any non-empty kind is kept)
or bare id strings. Edges are ``{"from", "to", "kind"}``: ``from`` depends on ``to``; kind is
one of calls, runs_on, depends_on (default calls). In a delete an edge without ``kind`` has
kind ``""``: every edge between the two nodes. A topology without ``ts`` and without a record
time (a ``topology.json`` file) applies from the start of time (``ts`` 0).
"""

from __future__ import annotations

from typing import Final

from engine.events import TopologyEdge, TopologyMode, TopologyNode, TopologyUpdate
from engine.ingest.errors import FieldError
from engine.ingest.timestamps import read_ts
from engine.ingest.values import describe, json_type, read_name

EDGE_KINDS: Final = ("calls", "runs_on", "depends_on")
ANY_EDGE_KIND: Final = ""
"""Kind of a delete edge given without ``kind``: it removes every edge between its nodes."""


def _read_node(value: object) -> TopologyNode:
    if isinstance(value, str) and value:
        return TopologyNode(str(value))
    if not isinstance(value, dict):
        raise FieldError(f"id: node must be an object or an id string (got {describe(value)})")
    kind = value.get("kind")
    return TopologyNode(
        read_name(value, "id"), "service" if kind is None else read_name(value, "kind")
    )


def _read_edge(value: object, default_kind: str) -> TopologyEdge:
    if not isinstance(value, dict):
        raise FieldError(f"from: edge must be an object (got {json_type(value)})")
    kind = value.get("kind")
    if kind is None:
        kind = default_kind
    elif kind not in EDGE_KINDS:
        raise FieldError(f"kind: must be one of {', '.join(EDGE_KINDS)} (got {describe(kind)})")
    return TopologyEdge(read_name(value, "from"), read_name(value, "to"), str(kind))


def _read_list(body: dict[str, object], key: str) -> list[object]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(f"{key}: must be an array (got {json_type(value)})")
    return value


def _read_graph(
    body: dict[str, object], prefix: str, default_edge_kind: str
) -> tuple[tuple[TopologyNode, ...], tuple[TopologyEdge, ...]]:
    nodes, edges = [], []
    for i, node in enumerate(_read_list(body, "nodes")):
        try:
            nodes.append(_read_node(node))
        except FieldError as error:
            raise error.under(f"{prefix}nodes[{i}]") from None
    for i, edge in enumerate(_read_list(body, "edges")):
        try:
            edges.append(_read_edge(edge, default_edge_kind))
        except FieldError as error:
            raise error.under(f"{prefix}edges[{i}]") from None
    return tuple(nodes), tuple(edges)


def _read_mode(obj: dict[str, object]) -> TopologyMode:
    given = [
        mode
        for mode, present in (
            (TopologyMode.REPLACE, "nodes" in obj or "edges" in obj),
            (TopologyMode.UPSERT, "upsert" in obj),
            (TopologyMode.DELETE, "delete" in obj),
        )
        if present
    ]
    if len(given) != 1:
        found = ", ".join(mode.value for mode in given) or "none"
        raise FieldError(f"nodes: give exactly one of nodes/edges, upsert or delete (got {found})")
    return given[0]


def decode_topology(obj: dict[str, object], default_ts: float | None) -> TopologyUpdate:
    """A change to the dependency graph.

    >>> update = decode_topology({"upsert": {"edges": [{"from": "a", "to": "b"}]}}, 5.0)
    >>> update.mode, update.edges
    (<TopologyMode.UPSERT: 'upsert'>, (TopologyEdge(source='a', target='b', kind='calls'),))
    """
    mode = _read_mode(obj)
    ts = read_ts(obj, 0.0 if default_ts is None else default_ts)
    body = obj if mode is TopologyMode.REPLACE else obj[mode.value]
    prefix = "" if mode is TopologyMode.REPLACE else f"{mode.value}."
    if not isinstance(body, dict):
        raise FieldError(
            f"{mode.value}: must be an object with nodes and/or edges (got {json_type(body)})"
        )
    default_kind = ANY_EDGE_KIND if mode is TopologyMode.DELETE else "calls"
    nodes, edges = _read_graph(body, prefix, default_kind)
    return TopologyUpdate(ts, mode, nodes, edges)
