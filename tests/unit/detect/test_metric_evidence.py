"""The metric model's evidence arithmetic: combining pieces and reading rarity."""

from __future__ import annotations

import itertools

from engine.detect.metric_evidence import combine, rarity, surprise_decades
from engine.detect.tail import BINS


def test_agreeing_evidence_scores_at_least_the_strongest_piece_and_more_when_it_agrees() -> None:
    for pieces in itertools.product((0.0, 0.5, 2.0, 4.0), repeat=4):
        for corroboration in (0.0, 0.5, 1.0):
            assert combine(*pieces, corroboration) >= max(pieces)
    assert combine(4.0, 0.0, 0.0, 4.0, 0.0) > 4.5  # two strong pieces: Fisher adds up
    assert combine(4.0, 0.5, 0.0, 0.0, 0.0) == 4.0  # one strong, one weak: never raised


def test_rarity_falls_with_the_bin_and_the_tail_keeps_growing_beyond_the_99th_percentile() -> None:
    hist = [0.0] * BINS
    for b, mass in zip(range(16, 26), (500, 250, 120, 60, 30, 20, 10, 6, 3, 1), strict=True):
        hist[b] = float(mass)
    total = sum(hist)
    assert all(rarity(a, hist, total, 1.0) <= rarity(b, hist, total, 1.0)
               for a, b in itertools.pairwise(range(16, 27)))
    beyond = [surprise_decades(b, 0.5, hist, total, 1.0, 0.03, 0.3, 1.0) for b in range(26, 40)]
    assert all(a < b for a, b in itertools.pairwise(beyond))
