"""Hypothesis invariants of the drift building blocks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detect.alarm import adjust_p_values
from engine.detect.psi import psi_numeric
from engine.detect.reservoir import reservoir_add

values = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(values, st.integers(1, 299), st.integers(1, 50), st.integers(0, 2**31))
def test_reservoir_split_equals_whole(xs: list[float], cut: int, cap: int, seed: int) -> None:
    arr = np.array(xs)
    cut = min(cut, len(xs))
    whole = reservoir_add(np.empty(0), 0, arr, cap, seed)
    first = reservoir_add(np.empty(0), 0, arr[:cut], cap, seed)
    split = reservoir_add(first, cut, arr[cut:], cap, seed)
    assert whole.tolist() == split.tolist()
    assert len(whole) == min(cap, len(xs))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_adjusted_p_values_are_probabilities_not_below_raw(ps: list[float]) -> None:
    for method in ("holm", "bonferroni", "none"):
        adjusted = adjust_p_values(ps, method)
        assert all(0.0 <= a <= 1.0 for a in adjusted)
        assert all(a >= p for a, p in zip(adjusted, ps, strict=True))


@settings(max_examples=40, deadline=None)
@given(values, values)
def test_psi_is_finite_and_non_negative(window: list[float], reference: list[float]) -> None:
    psi = psi_numeric(np.array(window), np.array(reference))
    assert np.isfinite(psi)
    assert psi >= -1e-12
