from __future__ import annotations

import pytest

from engine.events import TopologyEdge
from engine.rank.causes import CauseRanker
from engine.rank.features import EXTRA_FEATURES
from engine.rank.scoring import score_candidates
from engine.rank.signals import build_view
from engine.rank.weights import HAND_WEIGHTS, LEARNED_WEIGHTS
from engine.testing import T0
from testing.examples import example_anomaly
from tests.unit.rank.test_rank_causes import _episode, _snap

EDGES = [
    TopologyEdge("web", "api"),
    TopologyEdge("api", "db"),
    TopologyEdge("api", "cache"),
    TopologyEdge("web", "h1", "runs_on"),
    TopologyEdge("api", "h1", "runs_on"),
    TopologyEdge("db", "h2", "runs_on"),
]


def _features() -> dict[str, dict[str, float]]:
    anomalies = _episode("db", T0, 10) + _episode("api", T0 + 120, 8) + _episode("web", T0 + 240, 6)
    snap = _snap(anomalies, EDGES)
    return {c.node: c.features for c in score_candidates(build_view(snap), snap.changes)}


def test_every_candidate_has_every_weighted_feature_in_unit_range() -> None:
    for feats in _features().values():
        for key in (*HAND_WEIGHTS, *EXTRA_FEATURES):
            value = feats.get(key, 0.0)
            assert 0.0 <= value <= 1.0, (key, value)


def test_symptom_sits_above_an_anomalous_dependency_and_later_in_onset_order() -> None:
    feats = _features()
    order = ("db", "api", "web")
    assert [feats[n]["below"] for n in order] == pytest.approx([0, 1 / 3, 2 / 3])
    assert [feats[n]["onset_rank"] for n in order] == pytest.approx([0, 1 / 3, 2 / 3])
    assert feats["api"]["onset_gap"] == pytest.approx(0.2)
    assert feats["cache"]["has_signal"] == 0.0
    assert feats["db"]["has_signal"] == 1.0


def test_host_share_counts_anomalous_residents() -> None:
    feats = _features()
    assert feats["h1"]["host_share"] == 1.0
    assert feats["h1"]["is_host"] == 1.0
    assert feats["web"]["host_share"] == 1.0  # its co-resident api is anomalous
    assert feats["db"]["host_share"] == 0.0  # no other resident on h2


def test_learned_weights_cover_every_feature_and_both_sets_rank_the_callee_first() -> None:
    assert set(LEARNED_WEIGHTS) == {*HAND_WEIGHTS, *EXTRA_FEATURES}
    snap = _snap(
        [example_anomaly("db", T0, 0.99), example_anomaly("api", T0 + 60, 0.999999)], EDGES
    )
    for weights in ("learned", "hand"):
        assert CauseRanker(weights=weights).rank(snap).root_causes[0].node == "db"


def test_unknown_weight_set_is_rejected() -> None:
    with pytest.raises(ValueError, match="weights"):
        CauseRanker(weights="magic")
