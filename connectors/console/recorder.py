"""What the console remembers beyond the latest incident records: everything an incident page shows.

The runtime calls ``observe(inputs, outputs)`` once per batch, with the batch of input events it
gave the pipeline and the outputs the pipeline returned, and ``record_actions(delivered)`` with
the actions its deliverer returned (so the page shows delivery status). Call both from the
thread that serves HTTP (the server's event loop); ``ConsoleSession`` does that for the
embedded runtime. Every collection is bounded; the oldest entries are dropped first.

Kept: anomalies and alerts by member id, recent changes (deploys), the topology graph, metric
series around onset (``SeriesRecorder``), actions per incident, each incident's revisions, who
acknowledged what, and the watermark (newest event time seen), which is the console's "now".
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.console.series import SeriesRecorder
from engine.correlate.topology import Topology
from engine.events import (
    Action,
    ActionStatus,
    Alert,
    Anomaly,
    AnomalyKind,
    Change,
    Incident,
    MetricPoint,
    TopologyUpdate,
    series_key,
)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    incident: str
    by: str
    at: float
    comment: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at, "comment": self.comment}


@dataclass(slots=True)
class ConsoleRecorder:
    """Bounded memory of the context of incidents (see the module docstring)."""

    max_members: int = 50_000
    max_changes: int = 2_000
    max_incidents: int = 10_000
    max_revisions: int = 50
    series: SeriesRecorder = field(default_factory=SeriesRecorder)
    topology: Topology = field(default_factory=Topology)
    watermark: float | None = None
    anomalies: OrderedDict[str, Anomaly] = field(default_factory=OrderedDict)
    alerts: OrderedDict[str, Alert] = field(default_factory=OrderedDict)
    changes: deque[Change] = field(default_factory=deque)
    actions: OrderedDict[str, dict[str, Action]] = field(default_factory=OrderedDict)
    revisions: OrderedDict[str, list[Incident]] = field(default_factory=OrderedDict)
    acks: OrderedDict[str, Acknowledgement] = field(default_factory=OrderedDict)

    def observe(self, inputs: Iterable[object], outputs: Iterable[object]) -> None:
        """Record one batch: the input events given to the pipeline and its outputs."""
        for event in inputs:
            self._observe_input(event)
        for out in outputs:
            if isinstance(out, Anomaly):
                self._observe_anomaly(out)
            elif isinstance(out, Incident):
                self._observe_incident(out)
            elif isinstance(out, Action):
                self.record_actions([out])

    def _observe_input(self, event: object) -> None:
        if isinstance(event, MetricPoint):
            self.series.record_point(event.key, event.ts, event.value)
        elif isinstance(event, Alert):
            _put(self.alerts, f"am-{event.fingerprint}", event, self.max_members)
        elif isinstance(event, Change):
            self.changes.append(event)
            if len(self.changes) > self.max_changes:
                self.changes.popleft()
        elif isinstance(event, TopologyUpdate):
            self.topology.apply(event)
        ts = getattr(event, "ts", None)
        if isinstance(ts, int | float) and (self.watermark is None or ts > self.watermark):
            self.watermark = float(ts)

    def _observe_anomaly(self, anomaly: Anomaly) -> None:
        _put(self.anomalies, anomaly.id, anomaly, self.max_members)
        if anomaly.kind is not AnomalyKind.METRIC:
            return
        name, labels = anomaly.subject.get("name"), anomaly.subject.get("labels")
        if not isinstance(name, str) or not isinstance(labels, dict):
            return
        band = anomaly.detail.get("band")
        low, high = band if isinstance(band, list) and len(band) == 2 else (None, None)
        self.series.mark_anomaly(
            series_key(name, {str(k): str(v) for k, v in labels.items()}),
            anomaly.ts,
            _number(anomaly.detail.get("expected")),
            _number(low),
            _number(high),
        )

    def _observe_incident(self, incident: Incident) -> None:
        history = self.revisions.get(incident.id)
        if history is None:
            history = []
            _put(self.revisions, incident.id, history, self.max_incidents)
        if not history or history[-1].revision < incident.revision:
            history.append(incident)
            del history[: -self.max_revisions]

    def record_actions(self, actions: Sequence[Action]) -> None:
        """Keep the latest state of each action; a delivery result wins over a decision."""
        for action in actions:
            mine = self.actions.get(action.incident)
            if mine is None:
                mine = {}
                _put(self.actions, action.incident, mine, self.max_incidents)
            known = mine.get(action.id)
            if known is not None and action.status is ActionStatus.DECIDED:
                continue
            mine[action.id] = action

    def acknowledge(self, ack: Acknowledgement) -> None:
        _put(self.acks, ack.incident, ack, self.max_incidents)

    def members_of(self, incident: Incident) -> tuple[list[Anomaly], list[Alert]]:
        """The recorded anomalies and alerts among the incident's members."""
        found_anomalies = [a for m in incident.alerts if (a := self.anomalies.get(m)) is not None]
        found_alerts = [b for m in incident.alerts if (b := self.alerts.get(m)) is not None]
        return found_anomalies, found_alerts


def _put(store: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None
