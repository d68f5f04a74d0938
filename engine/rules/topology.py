"""Rule section ``topology``: a static service graph (the topology topic can change it live),
and ``node_labels``: which labels name a topology node (``engine.ingest.node_labels``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from engine.ingest.node_labels import NodeLabelRule, NodeLabels, parse_template
from engine.rules.base import StrictModel


class NodeRule(StrictModel):
    id: str = Field(min_length=1)
    kind: Literal["service", "host", "model", "datastore", "queue", "external"] = "service"


class EdgeRule(StrictModel):
    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    kind: Literal["calls", "runs_on", "depends_on"] = "calls"


class NodeLabelEntry(StrictModel):
    """When every label in ``labels`` is set, ``node`` (default ``{<last label>}``) names a
    node of ``kind``."""

    labels: list[str] = Field(min_length=1)
    node: str | None = None
    kind: Literal["service", "host", "model"] = "service"

    @field_validator("labels")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        if not all(value):
            raise ValueError("label names must be non-empty")
        return value

    @field_validator("node")
    @classmethod
    def _template(cls, value: str | None, info: ValidationInfo) -> str | None:
        labels = info.data.get("labels")
        if value is not None and labels:
            parse_template(value, tuple(labels))  # ValueError: reported at this key
        return value

    def rule(self) -> NodeLabelRule:
        return NodeLabelRule(tuple(self.labels), self.node or f"{{{self.labels[-1]}}}", self.kind)


class TopologyRules(StrictModel):
    nodes: list[NodeRule] = Field(default_factory=list)
    edges: list[EdgeRule] = Field(default_factory=list)
    node_labels: list[NodeLabelEntry] | None = None
    """Ordered; absent means ``engine.ingest.node_labels.DEFAULT_NODE_LABELS``."""

    def node_mapping(self) -> NodeLabels:
        if self.node_labels is None:
            return NodeLabels()
        return NodeLabels(tuple(entry.rule() for entry in self.node_labels))
