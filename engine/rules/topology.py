"""Rule section ``topology``: a static service graph (the topology topic can change it live)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.rules.base import StrictModel


class NodeRule(StrictModel):
    id: str = Field(min_length=1)
    kind: Literal["service", "host", "model", "datastore", "queue", "external"] = "service"


class EdgeRule(StrictModel):
    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    kind: Literal["calls", "runs_on", "depends_on"] = "calls"


class TopologyRules(StrictModel):
    nodes: list[NodeRule] = Field(default_factory=list)
    edges: list[EdgeRule] = Field(default_factory=list)
