"""Drift statistics equal scipy's on the same samples; PSI and reservoir behave as documented."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine.detect.alarm import adjust_p_values, evidence_of, fisher_combined
from engine.detect.drift import compare_categorical, compare_numeric
from engine.detect.psi import psi_categorical, psi_numeric
from engine.detect.reservoir import reservoir_add


@pytest.mark.parametrize(("n", "m", "shift"), [(20, 30, 0.0), (500, 800, 0.3), (3000, 5000, 0.05)])
def test_ks_statistic_and_p_value_equal_scipy(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n)
    window, reference = rng.normal(shift, 1, n), rng.normal(0, 1, m)
    expected = stats.ks_2samp(window, reference)
    got = compare_numeric(window, reference)
    assert (got.statistic, got.p_value) == (expected.statistic, expected.pvalue)


def test_chi_square_equals_scipy_contingency_including_new_category() -> None:
    window = {"a": 40, "b": 35, "new": 9}
    reference = {"a": 500, "b": 480, "c": 20}
    table = np.array([[500, 480, 20, 0], [40, 35, 0, 9]])
    expected = stats.chi2_contingency(table, correction=False)
    got = compare_categorical(window, reference)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert got.p_value < 0.001


def test_psi_is_zero_for_identical_samples_and_grows_with_shift() -> None:
    ref = np.random.default_rng(1).normal(0, 1, 5000)
    small = psi_numeric(ref + 0.1, ref)
    large = psi_numeric(ref + 1.0, ref)
    assert psi_numeric(ref, ref) == 0.0
    assert 0.0 < small < 0.1 < 0.2 < large


def test_psi_matches_hand_computation_on_reference_deciles() -> None:
    ref = np.arange(100.0)  # deciles put 10 values in each bin
    window = np.array([5.0] * 50 + [95.0] * 50)  # half in the first bin, half in the last
    e, a = np.full(10, 0.1), np.array([0.5] + [1e-4] * 8 + [0.5])
    assert psi_numeric(window, ref, bins=10) == pytest.approx(
        float(np.sum((a - e) * np.log(a / e)))
    )
    assert psi_categorical({"x": 1}, {"x": 1}) == 0.0


def test_reservoir_is_uniform_and_bounded() -> None:
    counts = np.zeros(100)
    for seed in range(400):
        sample = reservoir_add(np.empty(0), 0, np.arange(100.0), 10, seed)
        assert len(sample) == 10
        assert len(set(sample.tolist())) == 10
        counts[sample.astype(int)] += 1
    # each value is kept with probability 10/100 -> 40 times of 400; chi-square goodness of fit
    assert stats.chisquare(counts).pvalue > 0.001


def test_holm_equals_step_down_by_hand() -> None:
    assert adjust_p_values([0.04, 0.001, 0.03], "holm") == pytest.approx([0.06, 0.003, 0.06])
    assert adjust_p_values([0.5], "holm") == [0.5]


def test_fisher_combination_equals_scipy() -> None:
    expected = stats.combine_pvalues([0.02, 0.03], method="fisher").pvalue
    assert fisher_combined(0.02, 0.03) == pytest.approx(expected, rel=1e-9)


def test_single_borderline_check_is_not_evidence_enough() -> None:
    level = 3600 / (180 * 86400)
    assert evidence_of(None, 0.01, 0.05) > level  # sees drift, does not alarm
    assert evidence_of(0.001, 0.0005, 0.05) < level  # persists: alarms at the second check
