"""Topology records: replace, upsert and delete."""

from __future__ import annotations

import pytest
import yaml

from engine.events import InputKind, Rejected, TopologyEdge, TopologyMode, TopologyNode
from engine.events import TopologyUpdate as Update
from engine.ingest.decode import Origin, decode_object, decode_record

TOPO = InputKind.TOPOLOGY


def test_whole_graph_from_the_spec_example_applies_from_time_zero_in_a_file() -> None:
    raw = b"""{"nodes": [{"id": "checkout", "kind": "service"},
           {"id": "payments", "kind": "service"},
           {"id": "node-3", "kind": "host"}, {"id": "fraud-detector", "kind": "model"}],
 "edges": [{"from": "checkout", "to": "payments", "kind": "calls"},
           {"from": "checkout", "to": "node-3", "kind": "runs_on"},
           {"from": "payments", "to": "fraud-detector", "kind": "calls"}]}"""
    assert decode_record(TOPO, raw, Origin("topology.json")) == [
        Update(
            0.0,
            TopologyMode.REPLACE,
            (
                TopologyNode("checkout", "service"),
                TopologyNode("payments", "service"),
                TopologyNode("node-3", "host"),
                TopologyNode("fraud-detector", "model"),
            ),
            (
                TopologyEdge("checkout", "payments", "calls"),
                TopologyEdge("checkout", "node-3", "runs_on"),
                TopologyEdge("payments", "fraud-detector", "calls"),
            ),
        )
    ]


def test_upsert_and_delete() -> None:
    origin = Origin("topology", timestamp=9.0)
    upsert = {"ts": 10, "upsert": {"nodes": ["cart"], "edges": [{"from": "cart", "to": "db"}]}}
    delete = {"delete": {"nodes": [{"id": "old"}], "edges": [{"from": "a", "to": "h"}]}}
    assert decode_object(TOPO, [upsert, delete], origin) == [
        Update(10.0, TopologyMode.UPSERT, (TopologyNode("cart"),), (TopologyEdge("cart", "db"),)),
        Update(9.0, TopologyMode.DELETE, (TopologyNode("old"),), (TopologyEdge("a", "h", ""),)),
    ]


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({}, "nodes: give exactly one of nodes/edges, upsert or delete (got none)"),
        ({"nodes": [], "upsert": {}},
         "nodes: give exactly one of nodes/edges, upsert or delete (got replace, upsert)"),
        ({"upsert": []}, "upsert: must be an object with nodes and/or edges (got array)"),
        ({"nodes": {"a": 1}}, "nodes: must be an array (got object)"),
        ({"nodes": ["a", 3]}, "nodes[1].id: node must be an object or an id string (got number 3)"),
        ({"nodes": [{"kind": "host"}]}, "nodes[0].id: required"),
        ({"delete": {"edges": [{"from": "a"}]}}, "delete.edges[0].to: required"),
        ({"edges": [{"from": "a", "to": "b", "kind": "owns"}]},
         "edges[0].kind: must be one of calls, runs_on, depends_on (got string 'owns')"),
        ({"edges": ["a->b"]}, "edges[0].from: edge must be an object (got string)"),
    ],
)  # fmt: skip
def test_invalid_topology_names_the_key(obj: dict[str, object], reason: str) -> None:
    out = decode_object(TOPO, obj, Origin("topology"))
    assert [r.error for r in out if isinstance(r, Rejected)] == [reason]


def test_topology_parsed_from_yaml_decodes_alike() -> None:
    text = """
ts: 2025-11-26T00:00:00Z   # YAML turns this into a datetime
nodes: [checkout, {id: node-3, kind: host}]
edges:
  - {from: checkout, to: node-3, kind: runs_on}
"""
    [update] = decode_object(TOPO, yaml.safe_load(text), Origin("topology.yaml"))
    assert update == Update(
        1_764_115_200.0,
        TopologyMode.REPLACE,
        (TopologyNode("checkout"), TopologyNode("node-3", "host")),
        (TopologyEdge("checkout", "node-3", "runs_on"),),
    )
