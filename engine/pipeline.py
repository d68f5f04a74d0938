"""The one place that wires intake -> detect -> correlate -> rank -> act.

Three stages, so the Kafka runtime can run each where its state lives:

* ``IntakeStage`` (``engine.ingest.intake``) judges event time per producer and caps the live
  series; its event time is the ``now`` of the stages after it. One per source partition in
  worker mode.
* ``DetectStage`` is keyed by series / model / service: metric baselines, log templates and
  log anomalies, ML model monitoring. In worker mode each input partition has its own state.
* ``IncidentStage`` sees every anomaly and alert of its scope (one cluster): correlation into
  incidents on the topology, root-cause ranking, and the act decisions (routing, retraining).

``Pipeline`` runs the three back to back (the embedded runtimes, driven by
``connectors.runner``). Decoding raw bytes into typed events happens before, in
``engine.ingest.decode``; delivering actions happens after, in ``connectors``. Every stage here
is an ``Operator``: explicit state, time passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.act.planner import ActionPlanner
from engine.act.planner_state import PlannerState
from engine.act.retrain import RetrainPlanner, RetrainState
from engine.correlate.grouping import Correlator
from engine.correlate.recovery import RecoveryState, RecoveryWatch, is_hold
from engine.correlate.reorder import ALERT_HORIZON_S, EventReorder, ReorderState
from engine.correlate.state import CorrelateState
from engine.detect.cardinality import Eviction
from engine.detect.logs import LogDetector
from engine.detect.logs_state import LogDetectorState
from engine.detect.metric import MetricDetector
from engine.detect.model import ModelMonitor
from engine.detect.model_state import ModelMonitorState
from engine.detect.profile import ReferenceProfile
from engine.detect.telemetry import (
    SCOPE_LABEL,
    Seen,
    TelemetryMarks,
    TelemetryState,
    is_telemetry,
)
from engine.events import (
    Action,
    Alert,
    Anomaly,
    AnomalyKind,
    Change,
    EventTime,
    GroundTruth,
    Incident,
    InputEvent,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    RetrainRequest,
    TopologyUpdate,
    node_of,
)
from engine.ingest.intake import IntakeStage, IntakeState
from engine.ingest.marks import Sourced
from engine.ingest.node_labels import NodeLabels
from engine.rank.causes import CauseRanker, RankState
from engine.rules import RuleSet
from engine.state import DetectState, IncidentState, PipelineState, part, stage_parts

IncidentInput = Anomaly | Alert | Change | TopologyUpdate


@dataclass(frozen=True, slots=True)
class DetectStage:
    """Series-keyed detection: metric points, log records, predictions and labels -> anomalies,
    plus the recovery watch's holds (a series still outside its pre-incident band) and a
    telemetry mark per node whose points or records arrive (``engine.detect.telemetry``)."""

    metrics: MetricDetector
    logs: LogDetector
    models: ModelMonitor
    recovery: RecoveryWatch = field(default_factory=RecoveryWatch)
    node_labels: NodeLabels = field(default_factory=NodeLabels)
    """Which labels name a topology node; applied to each metric point and log record."""
    telemetry: TelemetryMarks = field(default_factory=TelemetryMarks)
    name: str = "detect"

    def initial_state(self) -> DetectState:
        return DetectState(
            self.metrics.initial_state(),
            self.logs.initial_state(),
            self.models.initial_state(),
            self.recovery.initial_state(),
        )

    def restore_state(self, data: Mapping[str, Any]) -> DetectState:
        """From ``DetectState.to_dict`` output of any version (``engine.state``)."""
        parts = stage_parts(data)
        return DetectState(
            part(parts, "metrics", self.metrics.restore_state, self.metrics.initial_state),
            part(parts, "logs", LogDetectorState.from_dict, self.logs.initial_state),
            part(parts, "models", ModelMonitorState.from_dict, self.models.initial_state),
            part(parts, "recovery", RecoveryState.from_dict, self.recovery.initial_state),
            part(parts, "telemetry", TelemetryState.from_dict, self.telemetry.initial_state),
        )

    def forget(self, state: DetectState, keys: Sequence[str]) -> None:
        """Drop series the intake's guard evicted from the metric detector's state."""
        series = state.metrics.series
        for key in keys:
            series.pop(key, None)

    def process(
        self, state: DetectState, batch: Sequence[InputEvent], *, now: EventTime
    ) -> tuple[DetectState, list[Anomaly | Rejected]]:
        """Route each event to its detector; dead letters first, then anomalies by (ts, id)."""
        to_node = self.node_labels.apply  # the same event when ``service`` names its node
        points = [e if e.labels.get("service") else to_node(e) for e in batch
                  if isinstance(e, MetricPoint)]
        rest = batch if len(points) < len(batch) else ()  # metrics only: nothing else to route
        records = [to_node(e) for e in rest if isinstance(e, LogRecord)]
        ml = [e for e in rest if isinstance(e, Prediction | GroundTruth)]
        state.metrics, from_metrics = self.metrics.process(state.metrics, points, now=now)
        state.logs, from_logs = self.logs.process(state.logs, records, now=now)
        state.models, from_models = self.models.process(state.models, ml, now=now)
        watched: list[MetricPoint | Anomaly] = [*points]
        watched.extend(a for a in from_metrics if isinstance(a, Anomaly))
        state.recovery, holds = self.recovery.process(state.recovery, watched, now=now)
        state.telemetry, marks = self.telemetry.process(
            state.telemetry, _telemetry_seen(points, records), now=now
        )
        found = [*from_metrics, *from_logs, *from_models, *holds, *marks]
        rejected = [o for o in found if isinstance(o, Rejected)]
        anomalies = sorted((o for o in found if isinstance(o, Anomaly)), key=_by_time)
        return state, [*rejected, *anomalies]


IncidentOutput = Incident | Action | RetrainRequest


@dataclass(frozen=True, slots=True)
class IncidentStage:
    """Scope-keyed: anomalies, alerts, changes, topology -> incidents, ranked causes, actions."""

    correlator: Correlator
    ranker: CauseRanker
    planner: ActionPlanner
    retrain: RetrainPlanner
    reorder: EventReorder = field(default_factory=EventReorder)
    node_labels: NodeLabels = field(default_factory=NodeLabels)
    """Which labels name a topology node; applied to each alert."""
    name: str = "incident"

    def initial_state(self) -> IncidentState:
        return IncidentState(
            self.reorder.initial_state(),
            self.correlator.initial_state(),
            self.ranker.initial_state(),
            self.planner.initial_state(),
            self.retrain.initial_state(),
        )

    def restore_state(self, data: Mapping[str, Any]) -> IncidentState:
        """From ``IncidentState.to_dict`` output of any version (``engine.state``)."""
        parts = stage_parts(data)
        return IncidentState(
            part(parts, "reorder", ReorderState.from_dict, self.reorder.initial_state),
            part(parts, "correlate", CorrelateState.from_dict, self.correlator.initial_state),
            part(parts, "rank", RankState.from_dict, self.ranker.initial_state),
            part(parts, "act", PlannerState.from_dict, self.planner.initial_state),
            part(parts, "retrain", RetrainState.from_dict, self.retrain.initial_state),
        )

    def process(
        self, state: IncidentState, batch: Sequence[IncidentInput], *, now: EventTime
    ) -> tuple[IncidentState, list[IncidentOutput | Rejected]]:
        """Reorder, correlate, rank, then decide actions: incidents first, then actions and
        requests, then dead letters (events too late to tell from a re-delivery).

        ``now`` is a watermark: events wait in the ``reorder`` slot until it reaches their ts,
        so the outputs depend on the set of events and the watermarks, not on arrival order.
        """
        to_node = self.node_labels.apply
        batch = [to_node(e) if isinstance(e, Alert) else e for e in batch]
        state.reorder, released = self.reorder.process(state.reorder, batch, now=now)
        rejected = [e for e in released if isinstance(e, Rejected)]
        ordered = [e for e in released if not isinstance(e, Rejected)]
        state.correlate, snapshots = self.correlator.process(state.correlate, ordered, now=now)
        state.rank, incidents = self.ranker.process(state.rank, snapshots, now=now)
        state.act, actions = self.planner.process(state.act, incidents, now=now)
        anomalies = [e for e in ordered if isinstance(e, Anomaly)]
        state.retrain, retrain_out = self.retrain.process(
            state.retrain, [*anomalies, *incidents], now=now
        )
        return state, [*incidents, *actions, *retrain_out, *rejected]


PipelineOutput = Anomaly | Rejected | IncidentOutput


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The whole engine on one machine: ``IntakeStage``, ``DetectStage``, ``IncidentStage``.

    ``process`` takes decoded events with their source and ``now`` as processing time; its
    outputs, per call: dead letters of too-late events, then what ``advance`` gives at the
    intake's event time (anomalies, incident records, decided actions and retrain requests).
    Updates ``state`` in place and returns it.

    Examples
    --------
    >>> from testing.scenarios.shop import generate_scenario
    >>> scenario = generate_scenario(seed=7)  # a bad deploy of payments, noise elsewhere
    >>> batch = [Sourced("scenario", e) for e in scenario.events()]
    >>> pipeline = Pipeline.from_rules(RuleSet())
    >>> state, out = pipeline.process(pipeline.initial_state(), batch, now=batch[-1].ts)
    >>> state, more = pipeline.advance(state, [], now=batch[-1].ts)  # the input is over
    >>> fault = [o for o in out + more if isinstance(o, Incident) and "payments" in o.nodes][-1]
    >>> fault.root_causes[0].node, fault.status.value
    ('payments', 'resolved')
    """

    intake: IntakeStage
    detect: DetectStage
    incident: IncidentStage
    name: str = "pipeline"

    @classmethod
    def from_rules(
        cls, rules: RuleSet, references: Mapping[str, ReferenceProfile] | None = None
    ) -> Pipeline:
        """The pipeline the rules describe; ``references`` are stored model reference profiles
        (model name -> profile, loaded by ``connectors.reference``)."""
        return cls(
            IntakeStage.from_rules(rules.runtime),
            DetectStage(
                MetricDetector.from_rules(rules.detectors),
                LogDetector.from_rules(rules.logs),
                ModelMonitor.from_rules(rules.monitoring).with_references(references or {}),
                RecoveryWatch(
                    max_watch_s=rules.correlation.recovery_watch_s,
                    recover_points=rules.correlation.recovery_points,
                ),
                rules.topology.node_mapping(),
            ),
            IncidentStage(
                Correlator.from_rules(rules),
                CauseRanker.from_rules(rules),
                ActionPlanner.from_rules(rules.routing),
                RetrainPlanner.from_rules(rules.monitoring),
                EventReorder(rules.correlation.forget_after_s,
                             max(ALERT_HORIZON_S, rules.correlation.forget_after_s)),
                rules.topology.node_mapping(),
            ),
        )

    def initial_state(self) -> PipelineState:
        return PipelineState(
            self.intake.initial_state(), self.detect.initial_state(), self.incident.initial_state()
        )

    def restore_state(self, data: Mapping[str, Any]) -> PipelineState:
        """From ``PipelineState.to_dict`` output of any version (``engine.state``); a state
        without an intake part starts a fresh intake."""
        parts = stage_parts(data)
        return PipelineState(
            part(parts, "intake", IntakeState.from_dict, self.intake.initial_state),
            part(parts, "detect", self.detect.restore_state, self.detect.initial_state),
            part(parts, "incident", self.incident.restore_state, self.incident.initial_state),
        )

    def process(
        self, state: PipelineState, batch: Sequence[Sourced], *, now: EventTime
    ) -> tuple[PipelineState, list[PipelineOutput]]:
        """Intake at processing time ``now``, then ``advance`` at the intake's event time."""
        events, rejected = self.admit(state, batch, now=now)
        event_time = self.intake.event_time(state.intake, now=now)
        if event_time is None:  # no event yet
            return state, [*rejected]
        state, found = self.advance(state, events, now=event_time)
        return state, [*rejected, *found]

    def admit(
        self, state: PipelineState, batch: Sequence[Sourced], *, now: EventTime
    ) -> tuple[list[InputEvent], list[Rejected]]:
        """The intake stage alone: the events for ``advance`` and the too-late ones; series
        the guard evicted are forgotten by the detect stage."""
        state.intake, out = self.intake.process(state.intake, batch, now=now)
        evicted = [e.key for e in out if isinstance(e, Eviction)]
        if evicted:
            self.detect.forget(state.detect, evicted)
        rejected = [e for e in out if isinstance(e, Rejected)]
        return [e for e in out if not isinstance(e, Rejected | Eviction)], rejected

    def advance(
        self, state: PipelineState, events: Sequence[InputEvent], *, now: EventTime
    ) -> tuple[PipelineState, list[PipelineOutput]]:
        """Detect, then correlate the new anomalies with the events' alerts, changes, topology
        (``events`` admitted by the intake; ``now`` is event time).

        The recovery watch's holds go to the incident stage only: they are not outputs."""
        state.detect, found = self.detect.process(state.detect, events, now=now)
        anomalies = [a for a in found if isinstance(a, Anomaly)]
        context = [e for e in events if isinstance(e, Alert | Change | TopologyUpdate)]
        state.incident, outs = self.incident.process(
            state.incident, [*anomalies, *context], now=now
        )
        public = [o for o in found if not (isinstance(o, Anomaly) and is_internal(o))]
        return state, [*public, *outs]


def _telemetry_seen(points: Sequence[MetricPoint], records: Sequence[LogRecord]) -> list[Seen]:
    """The node of each point and record, as their detectors name it, and its cluster."""
    metric, log = AnomalyKind.METRIC, AnomalyKind.LOG
    seen = [(node_of(p.labels) or p.name, p.labels.get(SCOPE_LABEL, ""), p.ts, metric)
            for p in points]
    seen.extend((r.labels.get("service") or "unknown", r.labels.get(SCOPE_LABEL, ""), r.ts, log)
                for r in records)
    return seen


def is_internal(anomaly: Anomaly) -> bool:
    """A recovery-watch hold or a telemetry mark: for the incident stage only."""
    return is_hold(anomaly) or is_telemetry(anomaly)


def _by_time(anomaly: Anomaly) -> tuple[float, str]:
    return (anomaly.ts, anomaly.id)
