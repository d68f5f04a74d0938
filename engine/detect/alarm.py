"""Alarm control for repeated drift tests, so a 0.05 threshold checked hourly stays quiet.

A p-value threshold ``alpha`` = 0.05 checked every hour on stationary data is crossed by chance
about once a day per feature. The config's threshold keeps its meaning (a check whose p-value
is below it *sees* drift, and the anomaly detail says so), and three documented controls decide
when a feature *alarms*:

1. **Correction across features** (default Holm): at each check the model's p-values are
   adjusted together (Holm–Bonferroni step-down, or Bonferroni), so monitoring twenty features
   does not multiply the chance of a false alarm by twenty.
2. **Calibration to an expected run time** (default 180 days, like alibi-detect's ``ert``): a
   feature alarms only when its evidence is below ``level = check_interval / expected_run_time``
   (1h / 180d = 2.3e-4). Under no drift that bounds the false alarms to about one per
   ``expected_run_time`` per feature.
3. **Persistence**: the evidence of a check that sees drift right after another one that also
   did is the Fisher combination of the two adjusted p-values, ``p1 p2 (1 - ln(p1 p2))``. Drift
   that is moderate but persists therefore alarms at the second check, while a single borderline
   check does not.

An alarm fires once, when the feature starts alarming; it re-arms after a check that no
longer sees drift (adjusted p-value >= alpha).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Correction = Literal["holm", "bonferroni", "none"]


def adjust_p_values(p_values: Sequence[float], correction: Correction) -> list[float]:
    """Family-wise adjusted p-values, in the input order.

    >>> adjust_p_values([0.01, 0.04, 0.03], "holm")
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04], "bonferroni")
    [0.02, 0.08]
    """
    m = len(p_values)
    if correction == "none" or m <= 1:
        return [float(p) for p in p_values]
    if correction == "bonferroni":
        return [min(1.0, p * m) for p in p_values]
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def fisher_combined(p1: float, p2: float) -> float:
    """Fisher's combined p-value of two independent p-values (chi-square, 4 d.o.f.).

    >>> round(fisher_combined(0.05, 0.05), 4)
    0.0175
    """
    product = max(p1 * p2, 1e-300)
    return min(1.0, product * (1.0 - math.log(product)))


def evidence_of(previous: float | None, adjusted: float, alpha: float) -> float | None:
    """Evidence of drift at this check (lower is stronger); None when the check sees none.

    >>> evidence_of(None, 0.2, 0.05) is None
    True
    >>> round(evidence_of(0.01, 0.001, 0.05), 7)
    0.0001251
    """
    if adjusted >= alpha:
        return None
    if previous is None or previous >= alpha:
        return adjusted
    return min(adjusted, fisher_combined(previous, adjusted))
