"""Plain-data forms of the events the correlator keeps in its state (JSON-serializable)."""

from __future__ import annotations

from typing import Any

from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)


def anomaly_to_dict(a: Anomaly) -> dict[str, Any]:
    return {
        "id": a.id,
        "ts": a.ts,
        "kind": a.kind.value,
        "node": a.node,
        "subject": a.subject,
        "score": a.score,
        "severity": a.severity.value,
        "detail": a.detail,
        "labels": dict(a.labels),
    }


def anomaly_from_dict(d: dict[str, Any]) -> Anomaly:
    return Anomaly(
        id=d["id"],
        ts=d["ts"],
        kind=AnomalyKind(d["kind"]),
        node=d["node"],
        subject=d["subject"],
        score=d["score"],
        severity=Severity(d["severity"]),
        detail=d["detail"],
        labels=d["labels"],
    )


def alert_to_dict(a: Alert) -> dict[str, Any]:
    return {
        "ts": a.ts,
        "name": a.name,
        "status": a.status.value,
        "severity": a.severity.value,
        "fingerprint": a.fingerprint,
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "generator_url": a.generator_url,
    }


def alert_from_dict(d: dict[str, Any]) -> Alert:
    return Alert(
        ts=d["ts"],
        name=d["name"],
        status=AlertStatus(d["status"]),
        severity=Severity(d["severity"]),
        fingerprint=d["fingerprint"],
        labels=d["labels"],
        annotations=d["annotations"],
        starts_at=d["starts_at"],
        ends_at=d["ends_at"],
        generator_url=d["generator_url"],
    )


def change_to_dict(c: Change) -> dict[str, Any]:
    return {
        "ts": c.ts,
        "kind": c.kind,
        "service": c.service,
        "version": c.version,
        "description": c.description,
        "labels": dict(c.labels),
    }


def change_from_dict(d: dict[str, Any]) -> Change:
    return Change(
        ts=d["ts"],
        kind=d["kind"],
        service=d["service"],
        version=d["version"],
        description=d["description"],
        labels=d["labels"],
    )


def topology_to_dict(u: TopologyUpdate) -> dict[str, Any]:
    return {
        "ts": u.ts,
        "mode": u.mode.value,
        "nodes": [[n.id, n.kind] for n in u.nodes],
        "edges": [[e.source, e.target, e.kind] for e in u.edges],
    }


def topology_from_dict(d: dict[str, Any]) -> TopologyUpdate:
    return TopologyUpdate(
        ts=d["ts"],
        mode=TopologyMode(d["mode"]),
        nodes=tuple(TopologyNode(n[0], n[1]) for n in d["nodes"]),
        edges=tuple(TopologyEdge(e[0], e[1], e[2]) for e in d["edges"]),
    )
