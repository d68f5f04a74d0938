"""The correlator's explicit state: topology, live incidents, alert fingerprints, changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.correlate.alerts import AlertBook
from engine.correlate.incidents import IncidentRecord
from engine.correlate.topology import Topology
from engine.events import EventTime, node_of
from engine.vocabulary import JsonDict

STATE_VERSION = 5


@dataclass(slots=True)
class CorrelateState:
    """Topology, live incidents, alert fingerprints and recent changes (plain data + a graph)."""

    topology: Topology
    incidents: dict[str, IncidentRecord] = field(default_factory=dict)
    member_of: dict[str, str] = field(default_factory=dict)
    alerts: AlertBook = field(default_factory=AlertBook)
    changes: list[dict[str, Any]] = field(default_factory=list)
    clock: EventTime | None = None
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "topology": self.topology.to_dict(),
            "incidents": {k: r.to_dict() for k, r in self.incidents.items()},
            "member_of": dict(self.member_of),
            "alerts": self.alerts.to_dict(),
            "changes": list(self.changes),
            "clock": self.clock,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorrelateState:
        if data.get("version", 1) == 1:
            data = _upgrade_v1_to_v2(data)
        if data["version"] == 2:
            data = _upgrade_v2_to_v3(data)
        if data["version"] == 3:
            data = _upgrade_v3_to_v4(data)
        if data["version"] == 4:
            data = _upgrade_v4_to_v5(data)
        return cls(
            topology=Topology.from_dict(data["topology"]),
            incidents={k: IncidentRecord.from_dict(r) for k, r in data["incidents"].items()},
            member_of=dict(data["member_of"]),
            alerts=AlertBook.from_dict(data["alerts"]),  # reads the version-1 bare map too
            changes=list(data["changes"]),
            clock=data["clock"],
        )


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 opened every incident at once: its records count as confirmed."""
    incidents = {k: {**r, "confirmed": True, "spans": {}} for k, r in data["incidents"].items()}
    return {**data, "incidents": incidents, "version": 2}


def _upgrade_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 had no recovery-watch holds: no incident is held."""
    incidents = {k: {**r, "held_ts": None} for k, r in data["incidents"].items()}
    return {**data, "incidents": incidents, "version": 3}


def _upgrade_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 did not mark observed nodes (topology nodes were [id, kind, flagged]): none
    is observed until its next anomaly, hold or alert."""
    nodes = [[*n[:3], False] for n in data["topology"]["nodes"]]
    return {**data, "topology": {**data["topology"], "nodes": nodes}, "version": 4}


def _upgrade_v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 did not index an incident's firing alerts: rebuilt from their last status
    (the node their labels name), none settled."""
    incidents = {k: {**r, **_firing_of(r)} for k, r in data["incidents"].items()}
    return {**data, "incidents": incidents, "version": 5}


def _firing_of(record: dict[str, Any]) -> dict[str, Any]:
    firing: dict[str, dict[str, float]] = {}
    if record["resolved_at"] is None:
        for fp, alert in record["alerts"].items():
            if alert["status"] == "firing":
                firing.setdefault(node_of(alert["labels"]) or "", {})[fp] = alert["ts"]
    return {"firing": firing, "settled_at": None}
