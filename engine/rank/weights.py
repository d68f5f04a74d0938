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
    "coverage": 0.2242,
    "frontier": 0.2867,
    "onset": 0.0141,
    "own": 0.0119,
    "consistency": 0.0786,
    "change": 0.0611,
    "blocked": -0.0538,
    "silent": -0.0986,
    "has_signal": -0.0542,
    "strength": 0.0415,
    "count": -0.0177,
    "names": 0.0810,
    "persistence": -0.0063,
    "onset_rank": -0.0277,
    "onset_gap": -0.0005,
    "below": -0.0814,
    "host_share": -0.0469,
    "is_host": -0.0584,
    "changed": -0.0351,
}
