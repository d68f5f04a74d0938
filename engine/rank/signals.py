"""What an incident snapshot says per node (onset, strength, persistence) and its graph."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.events import Anomaly, EventTime, IncidentSnapshot, Severity, node_of

_ALERT_Z = {Severity.INFO: 3.5, Severity.WARNING: 4.5, Severity.ERROR: 6.0, Severity.CRITICAL: 8.0}
_MAX_Z = 50.0
SOLID_WEIGHT = 0.5
"""Evidence weight from which a node's onset and anomalies count as established."""
EPISODE_GAP_S = 300.0
"""Signals on one node further apart than this belong to separate episodes."""
PERSIST_SHARE = 0.5
"""An episode lasting this share of the incident's longest episode counts as persistent."""


@dataclass(slots=True)
class NodeSignal:
    """Evidence on one node's main episode (its largest run of signals; a stray blip before
    or after it does not move the onset): onset, strongest |z|, how many signals, which."""

    onset: EventTime
    z: float
    count: int = 0
    names: list[str] = field(default_factory=list)
    span_s: float = 0.0
    persistence: float = 1.0
    """Episode length against the incident's longest episode, in (0, 1]."""

    @property
    def weight(self) -> float:
        """How much this node's evidence counts, in (0, 1]: persistent and strong is 1."""
        return min(1.0, self.count / 3.0) * min(1.0, self.z / 6.0) * self.persistence


@dataclass(slots=True)
class IncidentView:
    """The snapshot reshaped for ranking: signals per node and adjacency in both directions."""

    signals: dict[str, NodeSignal]
    depends_on: dict[str, list[str]]
    dependents: dict[str, list[str]]
    kinds: dict[str, str]
    residents: dict[str, list[str]]
    """Host -> the services that run on it (``runs_on`` edges)."""
    observed: frozenset[str] = frozenset()
    """Nodes known to have telemetry (``IncidentSnapshot.observed``)."""
    seen_by: dict[str, list[str]] = field(default_factory=dict)
    """Node -> the callers whose client-side series of it are anomalous (``caller`` label)."""

    @property
    def first_onset(self) -> EventTime:
        """Earliest onset among nodes with substantial evidence (all nodes if none has)."""
        solid = [s.onset for s in self.signals.values() if s.weight >= SOLID_WEIGHT]
        return min(solid or [s.onset for s in self.signals.values()])


def z_of(anomaly: Anomaly) -> float:
    """The |z| of an anomaly: from value/expected/band when present, else from its score."""
    detail = anomaly.detail
    z = detail.get("z")
    if isinstance(z, int | float) and math.isfinite(z):
        return min(abs(float(z)), _MAX_Z)
    value, expected, band = detail.get("value"), detail.get("expected"), detail.get("band")
    if (
        isinstance(value, int | float)
        and isinstance(expected, int | float)
        and isinstance(band, list)
        and len(band) == 2
        and all(isinstance(b, int | float) for b in band)
    ):
        width = (float(band[1]) - float(band[0])) / 6.0
        if width > 0:
            return min(abs(float(value) - float(expected)) / width, _MAX_Z)
    return min(3.0 - math.log(max(1.0 - anomaly.score, 1e-12)), _MAX_Z)


def build_view(snapshot: IncidentSnapshot) -> IncidentView:
    """Collect per-node signals (anomalies and alerts) and the neighbourhood's adjacency."""
    points: dict[str, list[tuple[EventTime, float, str]]] = {}
    seen_by: dict[str, list[str]] = {}
    for a in snapshot.anomalies:
        name = str(a.subject.get("name", a.kind.value)) if isinstance(a.subject, dict) else ""
        points.setdefault(a.node, []).append((a.ts, z_of(a), name))
        caller = _caller_of(a)
        if caller and caller not in seen_by.setdefault(a.node, []):
            seen_by[a.node].append(caller)
    for alert in snapshot.alerts:
        node = node_of(alert.labels)
        if node is None:
            continue
        onset = alert.starts_at if alert.starts_at is not None else alert.ts
        points.setdefault(node, []).append((onset, _ALERT_Z[alert.severity], alert.name))
    signals = {node: _main_episode(p) for node, p in sorted(points.items())}
    longest = max((s.span_s for s in signals.values()), default=0.0)
    for s in signals.values():
        s.persistence = min(1.0, (s.span_s + 60.0) / (PERSIST_SHARE * (longest + 60.0)))
    depends_on: dict[str, list[str]] = {}
    dependents: dict[str, list[str]] = {}
    residents: dict[str, list[str]] = {}
    for e in snapshot.edges:
        depends_on.setdefault(e.source, []).append(e.target)
        dependents.setdefault(e.target, []).append(e.source)
        if e.kind == "runs_on":
            residents.setdefault(e.target, []).append(e.source)
    kinds = {n.id: n.kind for n in snapshot.nodes}
    seen = {n: sorted(c) for n, c in seen_by.items() if c}
    return IncidentView(signals, depends_on, dependents, kinds, residents, snapshot.observed, seen)


def _caller_of(anomaly: Anomaly) -> str:
    """The ``caller`` label of a metric anomaly: its series is measured by that caller on
    its calls to the anomaly's node (client-side latency or errors of one call edge)."""
    labels = anomaly.subject.get("labels") if isinstance(anomaly.subject, dict) else None
    caller = labels.get("caller") if isinstance(labels, dict) else None
    return caller if isinstance(caller, str) else ""


def _main_episode(points: list[tuple[EventTime, float, str]]) -> NodeSignal:
    """The node's episode: its signals minus isolated leading ones (a stray point more than
    ``EPISODE_GAP_S`` before the next, ahead of three or more later ones, sets no onset)."""
    points.sort()
    start = 0
    while start + 3 < len(points) and points[start + 1][0] - points[start][0] > EPISODE_GAP_S:
        start += 1
    run = points[start:]
    names: list[str] = []
    for _, _, name in run:
        if name and name not in names:
            names.append(name)
    return NodeSignal(
        onset=run[0][0],
        z=max(z for _, z, _ in run),
        count=len(run),
        names=names,
        span_s=run[-1][0] - run[0][0],
    )


def reach(adjacency: dict[str, list[str]], start: str, max_hops: int) -> dict[str, int]:
    """Nodes reachable from ``start`` along ``adjacency`` within ``max_hops``, with hop counts."""
    hops = {start: 0}
    frontier: Iterable[str] = [start]
    for depth in range(1, max_hops + 1):
        nxt = []
        for n in frontier:
            for m in adjacency.get(n, ()):
                if m not in hops:
                    hops[m] = depth
                    nxt.append(m)
        if not nxt:
            break
        frontier = nxt
    return hops
