"""Extra per-candidate features for the learned ranker (cheap: a few lookups per candidate).

All are in [0, 1]:

* ``has_signal``: the node has anomalies or alerts of its own;
* ``strength``: its strongest |z| against the incident's strongest;
* ``count``: how many signals (saturating at 5); ``names``: how many signal kinds (at 4);
* ``persistence``: its episode length against the incident's longest episode;
* ``onset_rank``: share of solid anomalous nodes whose onset is strictly earlier;
* ``onset_gap``: minutes after the first solid onset, over 10 (capped);
* ``below``: share of anomalous nodes it depends on (within ``DOWN_HOPS``), i.e. a symptom;
* ``host_share``: for a service, share of its hosts' other residents that are anomalous
  (a failing host hits them all); for a host, share of its residents that are anomalous;
* ``is_host``: the candidate is a host; ``changed``: it had any change before onset.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from engine.rank.signals import SOLID_WEIGHT, IncidentView, reach

GAP_SCALE_S = 600.0
EXTRA_FEATURES = (
    "has_signal",
    "strength",
    "count",
    "names",
    "persistence",
    "onset_rank",
    "onset_gap",
    "below",
    "host_share",
    "is_host",
    "changed",
)


@dataclass(frozen=True, slots=True)
class RankContext:
    """The incident, and incident-wide values every candidate's features are measured against."""

    view: IncidentView
    first: float
    max_z: float
    solid_onsets: list[float]
    n_signals: int

    @classmethod
    def of(cls, view: IncidentView) -> RankContext:
        solid = sorted(s.onset for s in view.signals.values() if s.weight >= SOLID_WEIGHT)
        max_z = max((s.z for s in view.signals.values()), default=1.0) or 1.0
        return cls(view, view.first_onset, max_z, solid, len(view.signals))


def extra_features(
    ctx: RankContext, node: str, kind: str, onset: float, has_change: bool
) -> dict[str, float]:
    """The features listed in the module docstring for one candidate."""
    view = ctx.view
    signal = view.signals.get(node)
    out = dict.fromkeys(EXTRA_FEATURES, 0.0)
    if signal is not None:
        out["has_signal"] = 1.0
        out["strength"] = signal.z / ctx.max_z
        out["count"] = min(signal.count / 5.0, 1.0)
        out["names"] = min(len(signal.names) / 4.0, 1.0)
        out["persistence"] = signal.persistence
    if ctx.solid_onsets:
        out["onset_rank"] = bisect_left(ctx.solid_onsets, onset) / len(ctx.solid_onsets)
    out["onset_gap"] = min(max(onset - ctx.first, 0.0) / GAP_SCALE_S, 1.0)
    below = reach(view.depends_on, node, 3)
    out["below"] = sum(1 for d in below if d != node and d in view.signals) / ctx.n_signals
    out["host_share"] = _host_share(view, node, kind)
    out["is_host"] = 1.0 if kind == "host" else 0.0
    out["changed"] = 1.0 if has_change else 0.0
    return out


def _host_share(view: IncidentView, node: str, kind: str) -> float:
    if kind == "host":
        residents = view.residents.get(node, [])
        return sum(1 for r in residents if r in view.signals) / len(residents) if residents else 0
    others = {
        r
        for h in view.depends_on.get(node, ())
        if h in view.residents
        for r in view.residents[h]
        if r != node
    }
    return sum(1 for r in others if r in view.signals) / len(others) if others else 0.0
