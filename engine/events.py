"""Typed records that flow through the pipeline, and their wire form (see docs/events.md).

Inputs (decoded by ``engine.ingest.decode``): MetricPoint, LogRecord, Prediction, GroundTruth,
Alert, Change, TopologyUpdate. Anything undecodable becomes ``Rejected``.
Outputs: Anomaly, Incident (with RootCause), Action, RetrainRequest.
Every output carries a stable id derived from its inputs (``stable_id``), never from a clock or
a counter, so re-processing the same input yields the same ids.

This module is the import path for all of them. The definitions live in
``engine.vocabulary`` (time, labels, JSON, ids, severity), ``engine.inputs`` and
``engine.outputs``.
"""

from __future__ import annotations

from engine.inputs import (
    Alert,
    AlertStatus,
    Change,
    GroundTruth,
    InputEvent,
    InputKind,
    Level,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)
from engine.outputs import (
    Action,
    ActionStatus,
    Anomaly,
    AnomalyKind,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    OutputEvent,
    RetrainRequest,
    RootCause,
)
from engine.vocabulary import (
    NODE_LABEL_KEYS,
    AnomalyId,
    EventTime,
    IncidentId,
    JsonDict,
    JsonValue,
    Labels,
    NodeId,
    Severity,
    json_object,
    node_of,
    series_key,
    stable_id,
)

__all__ = [
    "NODE_LABEL_KEYS",
    "Action",
    "ActionStatus",
    "Alert",
    "AlertStatus",
    "Anomaly",
    "AnomalyId",
    "AnomalyKind",
    "Change",
    "EventTime",
    "GroundTruth",
    "Incident",
    "IncidentId",
    "IncidentSnapshot",
    "IncidentStatus",
    "InputEvent",
    "InputKind",
    "JsonDict",
    "JsonValue",
    "Labels",
    "Level",
    "LogRecord",
    "MetricPoint",
    "NodeId",
    "OutputEvent",
    "Prediction",
    "Rejected",
    "RetrainRequest",
    "RootCause",
    "Severity",
    "TopologyEdge",
    "TopologyMode",
    "TopologyNode",
    "TopologyUpdate",
    "json_object",
    "node_of",
    "series_key",
    "stable_id",
]
