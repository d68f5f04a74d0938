"""Root-cause features and scores per candidate node of one incident.

Candidates are the anomalous nodes, their direct dependencies (a callee or host with no
signals of its own can still be the cause), and the services of recent changes. Each gets:

* ``coverage``: share of anomalous nodes that depend on it (transitively) or are it;
* ``frontier``: share of the frontier (unexplained solid anomalous nodes) that depends on it;
* ``onset``: how close its onset (or, without signals, its dependents') is to the first one;
* ``own``: strength and persistence of its own signals (0 without any);
* ``consistency``: share of its direct dependents that are anomalous;
* ``blocked``: it depends on an anomalous node whose onset is not later (a symptom, not a cause);
* ``change``: a deploy or config change on it shortly before onset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.events import Change, EventTime
from engine.rank.features import RankContext, extra_features
from engine.rank.signals import SOLID_WEIGHT, IncidentView, reach
from engine.rank.weights import LEARNED_WEIGHTS

ONSET_TOLERANCE_S = 60.0
ONSET_SCALE_S = 180.0
CHANGE_SCALE_S = 900.0
DOWN_HOPS = 3
UP_HOPS = 6
MAX_CANDIDATES = 40


@dataclass(slots=True)
class Candidate:
    node: str
    kind: str
    features: dict[str, float] = field(default_factory=dict)
    covered: list[str] = field(default_factory=list)
    blocked_by: str | None = None
    change: Change | None = None
    onset: EventTime = 0.0
    score: float = 0.0


def score_candidates(
    view: IncidentView,
    changes: Sequence[Change],
    weights: Mapping[str, float] = LEARNED_WEIGHTS,
) -> list[Candidate]:
    """Every candidate with its features and raw score (``weights`` dot features), best first
    (ties by node name)."""
    if not view.signals:
        return []
    first = view.first_onset
    nodes = _candidate_nodes(view, changes)
    pre = [_prefeatures(view, n, first, changes) for n in nodes]
    pre.sort(key=lambda c: (-_prescore(c), c.node))
    frontier = {
        c.node
        for c in pre
        if c.node in view.signals
        and view.signals[c.node].weight >= SOLID_WEIGHT
        and c.blocked_by is None
    }
    ranked = pre[:MAX_CANDIDATES]
    ctx = RankContext.of(view)
    for cand in ranked:
        _coverage(view, cand, frontier)
        changed = cand.change is not None
        cand.features.update(extra_features(ctx, cand.node, cand.kind, cand.onset, changed))
        cand.score = sum(weights.get(k, 0.0) * v for k, v in cand.features.items())
    ranked.sort(key=lambda c: (-c.score, c.node))
    backed = next((i for i, c in enumerate(ranked) if not is_unsupported(view, c)), 0)
    if backed > 0:  # never lead with a node nothing but one dependent points at
        ranked.insert(0, ranked.pop(backed))
    # a node that has telemetry, is quiet now and has weak topology evidence comes after
    # every node with signals of its own
    quiet = {c.node for c in ranked if c.node in view.observed and is_unsupported(view, c)}
    if quiet:
        ranked = [c for c in ranked if c.node not in quiet] + [c for c in ranked if c.node in quiet]
    return _resident_before_host(view, ranked)


def _resident_before_host(view: IncidentView, ranked: list[Candidate]) -> list[Candidate]:
    """A host whose only anomalous resident has signals of its own explains nothing more than
    that resident: the resident (the more specific cause) goes right before it."""
    for cand in list(ranked):
        bad = [r for r in view.residents.get(cand.node, ()) if r in view.signals]
        if cand.kind != "host" or len(bad) != 1:
            continue
        order = [c.node for c in ranked]
        if bad[0] in order and order.index(bad[0]) > order.index(cand.node):
            ranked.insert(order.index(cand.node), ranked.pop(order.index(bad[0])))
    return ranked


def is_unsupported(view: IncidentView, cand: Candidate) -> bool:
    """A node with no signals of its own whose topology evidence is weak (fewer than two of
    its direct dependents are anomalous): it is never ranked first while a candidate with
    evidence of its own exists."""
    if cand.node in view.signals:
        return False
    return sum(1 for d in view.dependents.get(cand.node, ()) if d in view.signals) < 2


def _candidate_nodes(view: IncidentView, changes: Sequence[Change]) -> list[str]:
    nodes = set(view.signals)
    for n in view.signals:
        nodes.update(view.depends_on.get(n, ()))
        nodes.update(view.residents.get(n, ()))  # a pod burning CPU shows on its host
    nodes.update(c.service for c in changes)
    return sorted(nodes)


def _prefeatures(
    view: IncidentView, node: str, first: EventTime, changes: Sequence[Change]
) -> Candidate:
    cand = Candidate(node, view.kinds.get(node, "service"))
    signal = view.signals.get(node)
    max_z = max(s.z for s in view.signals.values()) or 1.0
    if signal is not None:
        cand.onset = signal.onset
        strength = signal.z / max_z
        cand.features["own"] = 0.5 * strength + 0.5 * min(signal.count / 5.0, 1.0)
        cand.features["silent"] = 1.0 - signal.weight
        cand.blocked_by = _blocker(view, node, signal.onset)
        cand.features["blocked"] = 1.0 if cand.blocked_by else 0.0
    else:
        dependents = [d for d in view.dependents.get(node, ()) if d in view.signals]
        cand.onset = min((view.signals[d].onset for d in dependents), default=first)
    cand.features["onset"] = math.exp(-max(cand.onset - first, 0.0) / ONSET_SCALE_S)
    cand.features["consistency"] = _consistency(view, node)
    if signal is None:
        cand.features["silent"] = _silence(view, node, cand.features["consistency"])
    cand.change, cand.features["change"] = _change_of(node, changes, first)
    if cand.blocked_by is not None:
        # a deploy on a node whose own dependency failed first explains nothing (innocent)
        cand.features["change"] *= 0.25
    return cand


def _prescore(cand: Candidate) -> float:
    f = cand.features
    return f["onset"] + f["consistency"] + f["change"] - f.get("blocked", 0.0) - f.get("silent", 0)


def _silence(view: IncidentView, node: str, consistency: float) -> float:
    """Penalty for naming a node with no signals: full unless two or more of its direct
    dependents went solid-anomalous together (a silent callee or host failing under them)."""
    onsets = sorted(
        view.signals[d].onset
        for d in view.dependents.get(node, ())
        if d in view.signals and view.signals[d].weight >= SOLID_WEIGHT
    )
    if len(onsets) < 2 or onsets[1] - onsets[0] > ONSET_SCALE_S:
        return 1.0
    return 1.0 - consistency


def _blocker(view: IncidentView, node: str, onset: EventTime) -> str | None:
    """An anomalous dependency of ``node`` that started no later: ``node`` is its symptom."""
    hops = reach(view.depends_on, node, DOWN_HOPS)
    signals = view.signals
    blockers = [
        (signals[d].onset, hops[d], d)
        for d in hops
        if d != node
        and d in signals
        and signals[d].weight >= SOLID_WEIGHT
        and signals[d].onset <= onset + ONSET_TOLERANCE_S
    ]
    return min(blockers)[2] if blockers else None


def _consistency(view: IncidentView, node: str) -> float:
    dependents = view.dependents.get(node, [])
    if not dependents:
        return 1.0
    return sum(1 for d in dependents if d in view.signals) / len(dependents)


def _change_of(
    node: str, changes: Sequence[Change], first: EventTime
) -> tuple[Change | None, float]:
    best: tuple[float, Change | None] = (0.0, None)
    for change in changes:
        if change.service != node or change.ts > first + ONSET_TOLERANCE_S:
            continue
        weight = math.exp(-max(first - change.ts, 0.0) / CHANGE_SCALE_S)
        if change.kind not in ("deploy", "config", "feature_flag"):
            weight *= 0.5
        if weight > best[0]:
            best = (weight, change)
    return best[1], best[0]


def _coverage(view: IncidentView, cand: Candidate, frontier: set[str]) -> None:
    """Evidence-weighted share of anomalous nodes depending on ``cand``, and its share of the
    *frontier* (solid anomalous nodes that no earlier anomalous dependency explains).

    For a host or a node without solid evidence of its own, scaled by the share of its direct
    dependents that are anomalous: a failing host or callee hits (nearly) all of them.
    """
    hops = reach(view.dependents, cand.node, UP_HOPS)
    signals = view.signals
    cand.covered = sorted(n for n in hops if n in signals)
    total = sum(s.weight for s in signals.values())
    share = sum(signals[n].weight for n in cand.covered) / total
    reached = len(frontier.intersection(hops)) / len(frontier) if frontier else 0.0
    own = signals.get(cand.node)
    if cand.kind == "host" or own is None or own.weight < SOLID_WEIGHT:
        share *= cand.features["consistency"]
        reached *= cand.features["consistency"]
    cand.features["coverage"] = share
    cand.features["frontier"] = reached
