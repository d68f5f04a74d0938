"""Typed, versioned state of the pipeline's stages: one named field per operator.

``DetectState`` and ``IncidentState`` are what the detect and incident stages of
``engine.pipeline`` carry (and what a Kafka task checkpoints); ``PipelineState`` holds them and
the intake's ``IntakeState`` for the embedded runtimes. Each
writes ``{"version": 2, "<field>": <operator state dict>, ...}``.

Version 1 (written until the state was typed) kept the same operator dicts in a ``slots``
mapping: ``{"version": 1, "slots": {"metrics": ..., ...}}``; ``stage_parts`` upgrades it with
``_upgrade_v1_to_v2``. A field missing from a snapshot (an operator added since it was written)
starts afresh.

Examples
--------
>>> stage_parts({"version": 1, "slots": {"rank": {"version": 1}}})
{'version': 2, 'rank': {'version': 1}}
>>> stage_parts({"version": 2, "rank": {"version": 1}})
{'version': 2, 'rank': {'version': 1}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.act.planner_state import PlannerState
from engine.act.retrain import RetrainState
from engine.correlate.recovery import RecoveryState
from engine.correlate.reorder import ReorderState
from engine.correlate.state import CorrelateState
from engine.detect.logs_state import LogDetectorState
from engine.detect.metric_state import MetricState
from engine.detect.model_state import ModelMonitorState
from engine.detect.telemetry import TelemetryState
from engine.ingest.intake import IntakeState
from engine.rank.causes import RankState
from engine.vocabulary import JsonDict

STATE_VERSION = 2

T = TypeVar("T")


@dataclass(slots=True)
class DetectState:
    """``DetectStage``: metric detectors, log detector, model monitor, recovery watch, and
    the nodes already given a telemetry mark."""

    metrics: MetricState
    logs: LogDetectorState
    models: ModelMonitorState
    recovery: RecoveryState
    telemetry: TelemetryState = field(default_factory=TelemetryState)
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "metrics": self.metrics.to_dict(),
            "logs": self.logs.to_dict(),
            "models": self.models.to_dict(),
            "recovery": self.recovery.to_dict(),
            "telemetry": self.telemetry.to_dict(),
        }


@dataclass(slots=True)
class IncidentState:
    """``IncidentStage``: event reorder, correlator, ranker, action and retrain planners."""

    reorder: ReorderState
    correlate: CorrelateState
    rank: RankState
    act: PlannerState
    retrain: RetrainState
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "reorder": self.reorder.to_dict(),
            "correlate": self.correlate.to_dict(),
            "rank": self.rank.to_dict(),
            "act": self.act.to_dict(),
            "retrain": self.retrain.to_dict(),
        }


@dataclass(slots=True)
class PipelineState:
    """The embedded pipeline: the three stages back to back."""

    intake: IntakeState
    detect: DetectState
    incident: IncidentState
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "intake": self.intake.to_dict(),
            "detect": self.detect.to_dict(),
            "incident": self.incident.to_dict(),
        }


def stage_parts(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stage snapshot of any version as the current one (named parts)."""
    version = int(data.get("version", 1))
    if version == 1:
        return _upgrade_v1_to_v2(data)
    if version != STATE_VERSION:
        raise ValueError(f"stage state version {version} is newer than {STATE_VERSION}")
    return dict(data)


def _upgrade_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """Version 1 kept each operator's state under ``slots``; version 2 names them at the top."""
    return {"version": 2, **data["slots"]}


def part(
    parts: Mapping[str, Any],
    name: str,
    load: Callable[[dict[str, Any]], T],
    fresh: Callable[[], T],
) -> T:
    """One operator's state from its dict, or ``fresh()`` when the snapshot has none."""
    raw = parts.get(name)
    return fresh() if raw is None else load(raw)
