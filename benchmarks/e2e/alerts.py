"""Threshold alert rules evaluated like Prometheus, delivered like Alertmanager's webhook.

Each rule is evaluated once a minute on the generated series: the condition must hold for
``for_min`` evaluations before the alert fires (``startsAt`` = when it started pending, as
Prometheus sets it). Alertmanager sends the first notification after ``group_wait`` (30 s), then
re-sends the still-firing alert every ``group_interval`` (5 min) with the same ``startsAt``, and
a ``resolved`` notification (with ``endsAt``) at the next flush after it clears. Records are the
unmodified webhook payloads (version 4, one alert per group), in the order they were sent, with
no ``ts``: their event time is ``startsAt`` / ``endsAt``, as for a real receiver.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GROUP_WAIT_S = 30.0
GROUP_INTERVAL_S = 300.0


@dataclass(frozen=True, slots=True)
class AlertRule:
    alertname: str
    node: str
    metric: str
    threshold: float
    for_min: int
    severity: str

    def labels(self, cluster: str) -> dict[str, str]:
        key = "host" if self.metric.startswith("node_") else "service"
        return {
            "alertname": self.alertname,
            key: self.node,
            "cluster": cluster,
            "severity": self.severity,
        }


def episodes(rule: AlertRule, values: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Firing episodes ``(startsAt, endsAt)`` of ``rule`` over ``values`` (1-minute samples)."""
    out, pending_since, held = [], None, 0
    for ts, value in values:
        if value > rule.threshold:
            pending_since = ts if pending_since is None else pending_since
            held += 1
        else:
            if pending_since is not None and held >= rule.for_min:
                out.append((pending_since, ts))
            pending_since, held = None, 0
    if pending_since is not None and held >= rule.for_min:
        out.append((pending_since, values[-1][0] + 3600.0 * 24))
    return out


def alert_records(
    rules: list[AlertRule], series: dict[tuple[str, str], list[tuple[float, float]]], cluster: str
) -> list[dict[str, Any]]:
    sends: list[tuple[float, int, dict[str, Any]]] = []
    for rule in rules:
        values = series.get((rule.node, rule.metric), [])
        labels = rule.labels(cluster)
        fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
        stream_end = values[-1][0] if values else 0.0
        for started, ended in episodes(rule, values):
            at = started + rule.for_min * 60.0 + GROUP_WAIT_S
            while at < min(ended, stream_end):
                sends.append((at, len(sends), _payload(labels, fingerprint, started, None)))
                at += GROUP_INTERVAL_S
            if ended <= stream_end:
                sends.append((at, len(sends), _payload(labels, fingerprint, started, ended)))
    sends.sort(key=lambda s: (s[0], s[1]))
    return [payload for _, _, payload in sends]


def _payload(
    labels: dict[str, str], fingerprint: str, started: float, ended: float | None
) -> dict[str, Any]:
    status = "firing" if ended is None else "resolved"
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} on {_node(labels)}"},
        "startsAt": _rfc3339(started),
        "endsAt": _rfc3339(ended) if ended is not None else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "receiver": "vigil",
        "status": status,
        "alerts": [alert],
        "groupLabels": {"alertname": labels["alertname"], _key(labels): _node(labels)},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "groupKey": f'{{}}:{{alertname="{labels["alertname"]}"}}',
        "truncatedAlerts": 0,
    }


def _key(labels: dict[str, str]) -> str:
    return "host" if "host" in labels else "service"


def _node(labels: dict[str, str]) -> str:
    return labels.get("service") or labels.get("host", "")


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
