"""Feature weights of the root-cause score (a dot product per candidate).

``HAND_WEIGHTS`` were set by hand. ``LEARNED_WEIGHTS`` were fitted by
``python -m benchmarks.rca.training`` (a pairwise logistic ranker: true root against every
other candidate of its incident) on scenario seeds disjoint from the evaluation seeds, and
copied here as constants: the engine never imports a learning library.
"""

from __future__ import annotations

HAND_WEIGHTS: dict[str, float] = {
    "coverage": 0.30,
    "frontier": 0.30,
    "onset": 0.20,
    "own": 0.15,
    "consistency": 0.10,
    "change": 0.20,
    "blocked": -0.35,
    "silent": -0.12,
}

LEARNED_WEIGHTS: dict[str, float] = {
    # pairwise logistic ranker, C=1.0, seeds 20000..20399 (440 faults), weights x 0.1
    "coverage": 0.2233,
    "frontier": 0.2933,
    "onset": 0.0146,
    "own": 0.0155,
    "consistency": 0.0890,
    "change": 0.0696,
    "blocked": -0.0607,
    "silent": -0.0984,
    "has_signal": -0.0555,
    "strength": 0.0486,
    "count": -0.0176,
    "names": 0.0701,
    "persistence": -0.0028,
    "onset_rank": -0.0280,
    "onset_gap": -0.0004,
    "below": -0.0805,
    "host_share": -0.0509,
    "is_host": -0.0570,
    "changed": -0.0230,
}
