"""Prediction drift check of one closed window: PSI of the model's outputs vs the reference.

The monitored value is the prediction's ``score`` when it has one, else its numeric
``prediction``, else its class label (categorical PSI). PSI is an effect size, not a test: with
the default >= 200 values and 10 bins its noise under no drift is a few hundredths, far below
the usual 0.2 threshold, so it alarms when PSI > threshold at a check, once, and re-arms when a
check is back at or below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.detect.psi import psi_categorical, psi_numeric
from engine.rules.monitoring import PredictionDrift


@dataclass(frozen=True, slots=True)
class PredictionFinding:
    psi: float
    n_window: int
    onset: bool


def check_prediction_drift(
    sample: np.ndarray | None,
    counts: Mapping[str, int] | None,
    reference: np.ndarray | Mapping[str, int],
    spec: PredictionDrift,
    active: bool,
) -> tuple[PredictionFinding | None, bool]:
    """PSI of the window (numeric ``sample`` or class ``counts``); returns (finding, active).

    ``spec`` gives the threshold, the bins and the fewest values worth a check.

    >>> spec = PredictionDrift(threshold=0.2, bins=10, min_samples=200)
    >>> ref = np.linspace(0.0, 1.0, 1000)
    >>> f, active = check_prediction_drift(ref * 0.5, None, ref, spec, False)
    >>> round(f.psi, 3), f.onset, active
    (3.562, True, True)
    """
    threshold, bins, min_samples = spec.threshold, spec.bins, spec.min_samples
    if isinstance(reference, np.ndarray):
        if sample is None or len(sample) < min_samples:
            return None, active
        psi, n = psi_numeric(sample, reference, bins), len(sample)
    else:
        n = sum(counts.values()) if counts else 0
        if counts is None or n < min_samples:
            return None, active
        psi = psi_categorical(counts, reference)
    alarming = psi > threshold
    return PredictionFinding(psi, n, alarming and not active), alarming
