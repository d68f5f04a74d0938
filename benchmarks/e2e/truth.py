"""What a scored stream is, whichever source it came from (generated or a real dataset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Series = dict[tuple[str, str], list[tuple[float, float]]]
"""(node, metric) -> [(ts, value)] in time order."""


@dataclass(frozen=True, slots=True)
class TrueFault:
    """One injected fault: its root, when it was active, the nodes whose anomalies are its."""

    root: str
    start: float
    end: float
    nodes: frozenset[str]
    kind: str
    signal: tuple[str, str] | None = None
    """The series that shows the root's symptom (for resolve correctness), if any."""

    def window(self) -> tuple[float, float]:
        return self.start - 120.0, self.end + 600.0


@dataclass(slots=True)
class Case:
    """A stream to replay and the truth to score it against."""

    name: str
    mode: str
    start: float
    end: float
    faults: list[TrueFault]
    series: Series
    topology: dict[str, Any]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertEpisode:
    id: str
    name: str
    node: str
    cluster: str
    starts: float
    ends: float


def alert_episodes(records: list[dict[str, Any]], stream_end: float) -> list[AlertEpisode]:
    """Firing episodes from Alertmanager webhook payloads (re-sends folded; open ones end at
    ``stream_end``)."""
    ends: dict[tuple[str, float], float] = {}
    meta: dict[tuple[str, float], tuple[str, str, str]] = {}
    for payload in records:
        for alert in payload.get("alerts", []):
            labels = alert["labels"]
            key = (f"am-{alert['fingerprint']}", _ts(alert["startsAt"]))
            node = labels.get("service") or labels.get("host", "")
            meta[key] = (labels["alertname"], node, labels.get("cluster", ""))
            if alert["status"] == "resolved":
                ends[key] = _ts(alert["endsAt"])
    return sorted(
        (AlertEpisode(k[0], *meta[k][:2], meta[k][2], k[1], ends.get(k, stream_end)) for k in meta),
        key=lambda e: (e.starts, e.id),
    )


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
