"""Two-sample drift tests: Kolmogorov–Smirnov (numeric) and chi-square (categorical).

Both call scipy on exactly the samples given, so statistics and p-values are scipy's:
``ks_2samp(window, reference)`` (scipy's default ``method="auto"``: exact for small samples,
asymptotic otherwise) and ``chi2_contingency`` on the 2 x k table of reference and window
counts (no Yates correction, so every table size is treated alike). Wasserstein distance and
Jensen–Shannon distance are reported beside them as effect sizes; they decide nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon


@dataclass(frozen=True, slots=True)
class DriftResult:
    """One test of one feature: ``p_value`` in [0, 1], lower means stronger evidence of drift."""

    test: str
    statistic: float
    p_value: float
    effect: float
    """Wasserstein distance (numeric) or Jensen–Shannon distance (categorical)."""
    n_window: int
    n_reference: int


def compare_numeric(window: np.ndarray, reference: np.ndarray) -> DriftResult:
    """KS test of a window sample against the reference sample.

    Examples
    --------
    >>> r = compare_numeric(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> r.test, r.statistic, round(r.p_value, 4)
    ('ks', 1.0, 0.0286)
    """
    res = stats.ks_2samp(window, reference)
    return DriftResult(
        "ks",
        float(res.statistic),
        float(res.pvalue),
        float(stats.wasserstein_distance(window, reference)),
        len(window),
        len(reference),
    )


def compare_categorical(window: Mapping[str, int], reference: Mapping[str, int]) -> DriftResult:
    """Chi-square test of homogeneity of the window's and the reference's category counts.

    A category never seen in the reference is its own column, so a new category is drift.

    Examples
    --------
    >>> r = compare_categorical({"a": 50, "b": 50, "new": 20}, {"a": 60, "b": 40})
    >>> r.test, round(r.statistic, 3), r.p_value < 0.01
    ('chi_square', 20.37, True)
    """
    categories = sorted(set(window) | set(reference))
    table = np.array(
        [[reference.get(c, 0) for c in categories], [window.get(c, 0) for c in categories]],
        dtype=np.float64,
    )
    n_window, n_reference = int(table[1].sum()), int(table[0].sum())
    if len(categories) < 2 or n_window == 0 or n_reference == 0:
        return DriftResult("chi_square", 0.0, 1.0, 0.0, n_window, n_reference)
    res = stats.chi2_contingency(table, correction=False)
    effect = float(jensenshannon(table[0] / n_reference, table[1] / n_window, base=2))
    return DriftResult(
        "chi_square", float(res.statistic), float(res.pvalue), effect, n_window, n_reference
    )
