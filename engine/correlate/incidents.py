"""One incident's plain-data record inside the correlator's state, and its snapshot form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.events import (
    Alert,
    Anomaly,
    Change,
    EventTime,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    TopologyEdge,
    TopologyNode,
)
from engine.vocabulary import JsonDict

_SEVERITIES = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL]
INCIDENT_LABEL_KEYS = ("cluster", "namespace", "env", "region", "team")
"""Member labels an incident carries when all its members that have them agree."""


@dataclass(slots=True)
class IncidentRecord:
    """Everything the correlator remembers about one incident (JSON-serializable fields)."""

    id: str
    opened_at: EventTime
    last_ts: EventTime
    members: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    anomalies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    severity: int = 0
    revision: int = 0
    resolved_at: EventTime | None = None
    merged_into: str | None = None
    dirty: bool = False
    announced: bool = False
    confirmed: bool = False
    spans: dict[str, list[float]] = field(default_factory=dict)
    """Node -> [first member ts, last member ts, member count] (for confirmation)."""
    held_ts: EventTime | None = None
    """Latest hold: a recovery-watch hold on one of its nodes (a member still outside its
    band), or an alert member still firing when it would have gone quiet."""
    firing: dict[str, dict[str, EventTime]] = field(default_factory=dict)
    """Node (``""`` for alerts naming none) -> {fingerprint: since} of its alert members
    firing now."""
    settled_at: EventTime | None = None
    """When its last firing alert resolved, if it has no other members (it resolves then)."""

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def active_ts(self) -> EventTime:
        """Its last sign of life: a member, or a hold (a member still outside its band)."""
        return self.last_ts if self.held_ts is None else max(self.last_ts, self.held_ts)

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "opened_at": self.opened_at,
            "last_ts": self.last_ts,
            "members": list(self.members),
            "nodes": list(self.nodes),
            "anomalies": {n: list(v) for n, v in self.anomalies.items()},
            "alerts": dict(self.alerts),
            "changes": list(self.changes),
            "severity": self.severity,
            "revision": self.revision,
            "resolved_at": self.resolved_at,
            "merged_into": self.merged_into,
            "dirty": self.dirty,
            "announced": self.announced,
            "confirmed": self.confirmed,
            "spans": {n: list(v) for n, v in self.spans.items()},
            "held_ts": self.held_ts,
            "firing": {n: dict(v) for n, v in self.firing.items()},
            "settled_at": self.settled_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentRecord:
        return cls(
            id=d["id"],
            opened_at=d["opened_at"],
            last_ts=d["last_ts"],
            members=list(d["members"]),
            nodes=list(d["nodes"]),
            anomalies={n: list(v) for n, v in d["anomalies"].items()},
            alerts=dict(d["alerts"]),
            changes=list(d["changes"]),
            severity=d["severity"],
            revision=d["revision"],
            resolved_at=d["resolved_at"],
            merged_into=d["merged_into"],
            dirty=d["dirty"],
            announced=d["announced"],
            confirmed=d["confirmed"],
            spans={n: list(v) for n, v in d["spans"].items()},
            held_ts=d["held_ts"],
            firing={n: dict(v) for n, v in d["firing"].items()},
            settled_at=d["settled_at"],
        )

    # -- membership --------------------------------------------------------------------------

    def add_node(self, node: str) -> bool:
        """Add ``node``; True if it was new to the incident."""
        if node in self.nodes:
            return False
        self.nodes.append(node)
        return True

    def note_member(self, node: str | None, ts: EventTime) -> None:
        """Count a member at ``node`` (alerts naming no node count under ``""``)."""
        span = self.spans.setdefault(node or "", [ts, ts, 0])
        span[0], span[1], span[2] = min(span[0], ts), max(span[1], ts), span[2] + 1

    def add_anomaly(self, anomaly: Anomaly, cap: int) -> None:
        kept = self.anomalies.setdefault(anomaly.node, [])
        record = anomaly.to_wire(labels=True)
        if len(kept) < cap:
            kept.append(record)
            return
        # full: keep the onset (first entries) and the strongest later evidence
        weakest = min(range(1, len(kept)), key=lambda i: kept[i]["score"], default=None)
        if weakest is not None and kept[weakest]["score"] < anomaly.score:
            kept[weakest] = record

    def add_alert(self, alert: Alert) -> None:
        self.alerts[alert.fingerprint] = alert.to_dict()

    def alert_fired(self, fingerprint: str, node: str | None, ts: EventTime) -> None:
        """An alert member at ``node`` fires (again) at ``ts``: the incident is not settled."""
        self.firing.setdefault(node or "", {}).setdefault(fingerprint, ts)
        self.settled_at = None

    def loud_firing(self, node: str) -> bool:
        """Whether an alert member of severity error or critical fires at ``node``."""
        alerts = self.alerts
        return any(
            fp in alerts and alerts[fp]["severity"] in ("error", "critical")
            for fp in self.firing.get(node, ())
        )

    def alert_resolved(self, fingerprint: str, node: str | None, ts: EventTime) -> None:
        """An alert member at ``node`` resolved at ``ts``; with no alert still firing and no
        other member, the incident is settled at ``ts`` (see ``is_settled``)."""
        fps = self.firing.get(node or "", {})
        if fps.pop(fingerprint, None) is not None and not fps:
            del self.firing[node or ""]
        if not self.firing and not self.anomalies:
            self.settled_at = ts

    def is_settled(self, before: EventTime) -> bool:
        """Whether its members are all resolved alerts, the last resolved at or before
        ``before``, and no hold (a signal still outside its band) came after it."""
        at = self.settled_at
        if at is None or at > before or self.firing or self.anomalies:
            return False
        return self.held_ts is None or self.held_ts <= at

    def absorb(self, other: IncidentRecord, cap: int) -> None:
        """Take over every member of ``other`` (a merge); ``other`` is left empty."""
        self.opened_at = min(self.opened_at, other.opened_at)
        self.last_ts = max(self.last_ts, other.last_ts)
        self.members.extend(other.members)  # disjoint: a member is in one incident only
        for node in other.nodes:
            self.add_node(node)
        for kept in other.anomalies.values():
            for a in kept:
                self.add_anomaly(Anomaly.from_wire(a), cap)
        self.alerts.update(other.alerts)
        seen = {_change_key(c) for c in self.changes}
        self.changes.extend(c for c in other.changes if _change_key(c) not in seen)
        self.severity = max(self.severity, other.severity)
        self.confirmed = self.confirmed or other.confirmed
        if other.held_ts is not None:
            self.held_ts = max(self.held_ts or other.held_ts, other.held_ts)
        for node, fps in other.firing.items():
            self.firing.setdefault(node, {}).update(fps)
        settled = [t for t in (self.settled_at, other.settled_at) if t is not None]
        self.settled_at = max(settled) if settled else None
        for node, (first, last, count) in other.spans.items():
            span = self.spans.setdefault(node, [first, last, 0])
            span[0], span[1], span[2] = min(span[0], first), max(span[1], last), span[2] + count
        other.spans, other.firing = {}, {}
        other.members, other.nodes, other.anomalies, other.alerts = [], [], {}, {}

    # -- output ------------------------------------------------------------------------------

    def shared_labels(self) -> dict[str, str]:
        """The ``INCIDENT_LABEL_KEYS`` its members agree on (cluster, namespace, ...): the
        labels receivers group and route by. A key whose members disagree is left out."""
        seen: dict[str, set[str]] = {}
        records = [a for kept in self.anomalies.values() for a in kept]
        for record in [*records, *self.alerts.values()]:
            for key in INCIDENT_LABEL_KEYS:
                value = record["labels"].get(key)
                if isinstance(value, str) and value:
                    seen.setdefault(key, set()).add(value)
        return {k: next(iter(v)) for k, v in sorted(seen.items()) if len(v) == 1}

    def snapshot(
        self,
        status: IncidentStatus,
        nodes: tuple[TopologyNode, ...],
        edges: tuple[TopologyEdge, ...],
    ) -> IncidentSnapshot:
        """Emit the next revision of this incident with its members and neighbourhood."""
        self.revision += 1
        self.dirty = False
        labels = self.shared_labels()
        if self.merged_into:
            labels["merged_into"] = self.merged_into
        if not self.confirmed:
            labels["noise"] = "true"
        incident = Incident(
            id=self.id,
            status=status,
            opened_at=self.opened_at,
            updated_at=self.last_ts if self.resolved_at is None else self.resolved_at,
            severity=_SEVERITIES[self.severity],
            summary="",
            alerts=tuple(self.members),
            nodes=tuple(sorted(self.nodes)),
            labels=labels,
            revision=self.revision,
        )
        anomalies = tuple(
            Anomaly.from_wire(a) for node in sorted(self.anomalies) for a in self.anomalies[node]
        )
        alerts = tuple(Alert.from_dict(self.alerts[fp]) for fp in sorted(self.alerts))
        changes = tuple(Change.from_dict(c) for c in sorted(self.changes, key=_change_key))
        return IncidentSnapshot(incident, anomalies, alerts, changes, nodes, edges)


def _change_key(c: dict[str, Any]) -> tuple[float, str, str]:
    return (c["ts"], c["service"], c["kind"])
