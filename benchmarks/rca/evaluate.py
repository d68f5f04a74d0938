"""Run Vigil's correlator + ranker on one scenario; score grouping and ranking with baselines."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from math import comb

from benchmarks.rca.scenarios import T0, Scenario
from engine.correlate.grouping import Correlator
from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    node_of,
)
from engine.rank.causes import CauseRanker
from engine.rank.signals import z_of

GROUP_WINDOW_S = 300.0
GROUP_WAIT_S = 30.0


@dataclass
class Grouping:
    """Members' predicted group and their true label, plus notification counts."""

    predicted: dict[str, str] = field(default_factory=dict)
    notifications: int = 0
    opened_at: dict[str, float] = field(default_factory=dict)
    """Incident id -> event time (minute's end) at which it was opened, i.e. paged."""


def run_vigil(scn: Scenario, op: Correlator) -> tuple[Grouping, dict[str, IncidentSnapshot]]:
    """Feed the scenario minute by minute (now = the minute's end); then drain."""
    state, latest, grouping = op.initial_state(), {}, Grouping()
    by_minute: dict[int, list] = defaultdict(list)
    for e in scn.events:
        by_minute[int((e.ts - T0) // 60)].append(e)
    for minute in sorted(by_minute):
        now = T0 + 60 * minute + 59
        state, snaps = op.process(state, by_minute[minute], now=now)
        _collect(snaps, latest, grouping, now)
    state, snaps = op.process(state, [], now=T0 + 86400)
    _collect(snaps, latest, grouping, T0 + 86400)
    for snap in latest.values():
        for member in snap.incident.alerts:
            grouping.predicted[member] = snap.incident.id
    return grouping, latest


def _collect(snaps, latest, grouping: Grouping, now: float) -> None:
    for s in snaps:
        latest[s.incident.id] = s
        if s.incident.status is IncidentStatus.OPEN:
            grouping.notifications += 1
            grouping.opened_at.setdefault(s.incident.id, now)


def run_alertmanager(scn: Scenario) -> Grouping:
    """Group alerts by (alertname, cluster) with a 5-minute group window; count flushes."""
    grouping = Grouping()
    groups: dict[tuple[str, str], dict] = {}
    for e in scn.events:
        if not isinstance(e, Alert) or e.status is not AlertStatus.FIRING:
            continue
        key = (e.name, e.labels.get("cluster", ""))
        group = groups.get(key)
        if group is None or e.ts - group["last"] > GROUP_WINDOW_S:
            group = groups[key] = {
                "id": f"{key}@{e.ts}",
                "last": e.ts,
                "flush": e.ts + GROUP_WAIT_S,
            }
            grouping.notifications += 1
        elif e.ts > group["flush"]:
            grouping.notifications += 1  # group_interval: a new alert after the first flush
            group["flush"] = e.ts + GROUP_WINDOW_S
        group["last"] = e.ts
        grouping.predicted.setdefault(e.id, group["id"])
    return grouping


def pair_scores(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    """Groups per true incident, purity and pairwise precision/recall/F1 over shared members."""
    members = [m for m in predicted if m in truth]
    cells = Counter((predicted[m], truth[m]) for m in members)
    pred_sizes = Counter(predicted[m] for m in members)
    true_sizes = Counter(truth[m] for m in members)
    tp = sum(comb(c, 2) for c in cells.values())
    pp = sum(comb(c, 2) for c in pred_sizes.values())
    tt = sum(comb(c, 2) for c in true_sizes.values())
    majority: dict[str, int] = defaultdict(int)
    for (p, _), c in cells.items():
        majority[p] = max(majority[p], c)
    per_true: dict[str, set[str]] = defaultdict(set)
    for p, t in cells:
        if t.startswith("fault:"):
            per_true[t].add(p)
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    return {
        "groups": sum(len(v) for v in per_true.values()) / max(len(per_true), 1),
        "n_true": len(per_true),
        "purity": sum(majority.values()) / max(len(members), 1),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def incident_of_fault(tag: str, scn: Scenario, grouping: Grouping) -> str | None:
    votes = Counter(
        grouping.predicted[m] for m, t in scn.truth.items() if t == tag and m in grouping.predicted
    )
    return votes.most_common(1)[0][0] if votes else None


def baseline_rankings(snap: IncidentSnapshot) -> dict[str, list[str]]:
    """First node to alert (earliest member), and the node with the maximum |z|."""
    first: dict[str, float] = {}
    top_z: dict[str, float] = {}
    for a in snap.anomalies:
        first[a.node] = min(first.get(a.node, a.ts), a.ts)
        top_z[a.node] = max(top_z.get(a.node, 0.0), z_of(a))
    for al in snap.alerts:
        node = node_of(al.labels)
        if node:
            first[node] = min(first.get(node, al.ts), al.ts)
            top_z.setdefault(node, 0.0)
    return {
        "first_to_alert": sorted(first, key=lambda n: (first[n], -top_z.get(n, 0.0), n)),
        "max_z": sorted(top_z, key=lambda n: (-top_z[n], n)),
    }


def rank_positions(
    scn: Scenario, grouping: Grouping, latest: dict, rankers: dict[str, CauseRanker]
) -> list[dict]:
    """For each injected fault: where each method ranks the true root (None = not in list)."""
    rows = []
    for i, fault in enumerate(scn.faults):
        inc_id = incident_of_fault(f"fault:{i}", scn, grouping)
        row = {"kind": fault.kind, "hard": bool(scn.hard), "flags": scn.hard, "seed": scn.seed}
        opened = grouping.opened_at.get(inc_id or "")
        row["page_delay_s"] = None if opened is None else opened - (T0 + 60 * fault.start_min)
        if inc_id is None:
            row.update(dict.fromkeys([*rankers, "first_to_alert", "max_z"]))
        else:
            snap = latest[inc_id]
            for name, ranker in rankers.items():
                incident: Incident = ranker.rank(snap)
                row[name] = _position([c.node for c in incident.root_causes], fault.root)
            for name, order in baseline_rankings(snap).items():
                row[name] = _position(order, fault.root)
        rows.append(row)
    return rows


def _position(order: list[str], root: str) -> int | None:
    return order.index(root) + 1 if root in order else None


def member_count(scn: Scenario) -> int:
    return sum(isinstance(e, Anomaly) for e in scn.events)
