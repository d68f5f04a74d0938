"""The JSON behind the incident page and the enriched incident list (pure functions of a recorder).

``incident_detail`` gathers, for one incident: its record, a timeline (revisions, anomalies,
alerts, changes near its nodes, actions), the ranked causes, the topology neighbourhood with
positions, the most anomalous metric series around onset with the detector's band, the actions
and their delivery status, and the matchers suggested for a silence.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

from connectors.console.graph import graph_payload, neighbourhood
from connectors.console.recorder import ConsoleRecorder
from engine.events import Alert, Anomaly, AnomalyKind, Incident, Severity, series_key

MAX_SERIES: Final = 4
MAX_TIMELINE: Final = 400
CHANGE_LOOKBACK_S: Final = 2 * 3600.0
MAX_MEMBERS_SCANNED: Final = 500
SILENCE_LABELS: Final = ("cluster", "namespace", "env", "environment", "region")


def incident_summary(recorder: ConsoleRecorder, incident: Incident) -> dict[str, Any]:
    """The list row: the wire record plus top cause, services, label pairs and acknowledgement."""
    anomalies, alerts = _members(recorder, incident)
    top = incident.root_causes[0] if incident.root_causes else None
    ack = recorder.acks.get(incident.id)
    return {
        **incident.to_wire(),
        "alert_count": len(incident.alerts),
        "top_cause": top.to_wire() if top is not None else None,
        "services": sorted(incident.nodes),
        "label_pairs": sorted(_label_pairs(incident, anomalies, alerts)),
        "ack": ack.to_wire() if ack is not None else None,
    }


def _members(recorder: ConsoleRecorder, incident: Incident) -> tuple[list[Anomaly], list[Alert]]:
    if len(incident.alerts) <= MAX_MEMBERS_SCANNED:
        return recorder.members_of(incident)
    head = Incident(
        incident.id,
        incident.status,
        incident.opened_at,
        incident.updated_at,
        incident.severity,
        incident.summary,
        incident.alerts[:MAX_MEMBERS_SCANNED],
    )
    return recorder.members_of(head)


def _label_pairs(incident: Incident, anomalies: list[Anomaly], alerts: list[Alert]) -> set[str]:
    pairs = {f"{k}={v}" for k, v in incident.labels.items()}
    for anomaly in anomalies:
        labels = anomaly.subject.get("labels")
        if isinstance(labels, dict):
            pairs.update(f"{k}={v}" for k, v in labels.items())
        pairs.update(f"{k}={v}" for k, v in anomaly.labels.items())
    for alert in alerts:
        pairs.update(f"{k}={v}" for k, v in alert.labels.items())
    return pairs


def incident_detail(recorder: ConsoleRecorder, incident: Incident) -> dict[str, Any]:
    anomalies, alerts = _members(recorder, incident)
    cause_rank = {c.node: i + 1 for i, c in enumerate(incident.root_causes)}
    seeds = [*incident.nodes, *(c.node for c in incident.root_causes[:1])]
    sub = neighbourhood(recorder.topology, seeds)
    actions = sorted(
        recorder.actions.get(incident.id, {}).values(), key=lambda a: (a.ts, a.receiver, a.id)
    )
    return {
        "incident": incident_summary(recorder, incident),
        "now": recorder.watermark,
        "timeline": _timeline(recorder, incident, anomalies, alerts, set(sub)),
        "graph": graph_payload(sub, incident.nodes, cause_rank),
        "series": _series(recorder, incident, anomalies),
        "actions": [a.to_wire() for a in actions],
        "silence": {"matchers": suggest_matchers(incident, anomalies, alerts)},
    }


def _timeline(
    recorder: ConsoleRecorder,
    incident: Incident,
    anomalies: list[Anomaly],
    alerts: list[Alert],
    nodes: set[str],
) -> list[dict[str, Any]]:
    rows = [
        _row(r.updated_at, "incident", None, r.severity.value, f"incident {r.status.value}")
        for r in recorder.revisions.get(incident.id, [])
    ]
    rows += _anomaly_rows(anomalies)
    rows += [
        _row(a.ts, "alert", a.labels.get("service"), a.severity.value, f"{a.name} {a.status.value}")
        for a in alerts
    ]
    since = incident.opened_at - CHANGE_LOOKBACK_S
    rows += [
        _row(c.ts, "change", c.service, "info", c.description or f"{c.kind} {c.service}")
        for c in recorder.changes
        if c.service in nodes and since <= c.ts <= incident.updated_at
    ]
    for action in recorder.actions.get(incident.id, {}).values():
        title = f"{action.type} to {action.receiver}: {action.status.value}"
        rows.append(_row(action.ts, "action", None, "info", title))
    rows.sort(key=lambda r: (r["ts"], r["kind"], r["title"]))
    return rows[:MAX_TIMELINE]


def _row(ts: float, kind: str, node: str | None, severity: str, title: str) -> dict[str, Any]:
    return {"ts": ts, "kind": kind, "node": node, "severity": severity, "title": title}


def _anomaly_rows(anomalies: list[Anomaly]) -> list[dict[str, Any]]:
    """One row per anomalous signal (node + series or log template): first, last, count."""
    rows: dict[str, dict[str, Any]] = {}
    for a in sorted(anomalies, key=lambda a: (a.ts, a.id)):
        key = f"{a.node}|{a.kind.value}|{sorted(a.subject.items())}"
        row = rows.get(key)
        if row is None:
            rows[key] = {
                **_row(a.ts, "anomaly", a.node, a.severity.value, _describe(a)),
                "count": 1,
                "until": a.ts,
                "max_score": a.score,
            }
            continue
        row["count"] += 1
        row["until"] = a.ts
        row["max_score"] = max(row["max_score"], a.score)
        if a.severity.rank > Severity(row["severity"]).rank:
            row["severity"] = a.severity.value
    return list(rows.values())


def _describe(anomaly: Anomaly) -> str:
    subject, detail = anomaly.subject, anomaly.detail
    if anomaly.kind is AnomalyKind.METRIC:
        value, expected = detail.get("value"), detail.get("expected")
        if isinstance(value, int | float) and isinstance(expected, int | float):
            return f"{subject.get('name')} = {value:.4g} (expected {expected:.4g})"
        return f"{subject.get('name')} anomalous"
    if anomaly.kind is AnomalyKind.LOG:
        sample = detail.get("sample") or subject.get("template")
        return f"log {detail.get('reason', 'pattern')}: {sample}"
    return f"{anomaly.kind.value} anomaly (score {anomaly.score:.2f})"


def _series(
    recorder: ConsoleRecorder, incident: Incident, anomalies: list[Anomaly]
) -> list[dict[str, Any]]:
    """The most anomalous metric series: top-cause node first, then by score, then onset."""
    top = incident.root_causes[0].node if incident.root_causes else None
    best: dict[str, tuple[Anomaly, float, float]] = {}
    for a in anomalies:
        name, labels = a.subject.get("name"), a.subject.get("labels")
        if a.kind is not AnomalyKind.METRIC or not isinstance(name, str):
            continue
        labels = labels if isinstance(labels, dict) else {}
        key = series_key(name, {str(k): str(v) for k, v in labels.items()})
        first, score, onset = best.get(key, (a, a.score, a.ts))
        best[key] = (first, max(score, a.score), min(onset, a.ts))
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0].node != top, -kv[1][1], kv[1][2], kv[0]))
    out = []
    for key, (first, score, onset) in ranked:
        window = recorder.series.window(key)
        if window is None or not window.points:
            continue
        out.append(
            {
                "key": key,
                "name": first.subject.get("name"),
                "node": first.node,
                "onset": window.onset if window.onset is not None else onset,
                "max_score": score,
                "points": [list(p) for p in window.points],
                "band": [list(b) for b in window.band],
            }
        )
        if len(out) == MAX_SERIES:
            break
    return out


def suggest_matchers(
    incident: Incident, anomalies: list[Anomaly], alerts: list[Alert]
) -> list[str]:
    """Matchers for a silence: its services and the labels its members share; an incident with
    no nodes (an alert group) by its labels. Never the shared labels alone: incidents carry
    their members' common labels (``cluster``...), which would silence a whole cluster."""
    if incident.labels and not incident.nodes:
        return [f"{k}={v}" for k, v in sorted(incident.labels.items())]
    services = sorted(incident.nodes)
    matchers = []
    if len(services) == 1:
        matchers.append(f"service={services[0]}")
    elif services:
        matchers.append("service=~" + "|".join(services))
    counts: Counter[tuple[str, str]] = Counter()
    labelled = [a.subject.get("labels") for a in anomalies] + [a.labels for a in alerts]
    dicts = [d for d in labelled if isinstance(d, dict)]
    for labels in dicts:
        counts.update((k, str(v)) for k, v in labels.items() if k in SILENCE_LABELS)
    matchers += [f"{k}={v}" for (k, v), n in sorted(counts.items()) if n == len(dicts)]
    return matchers
