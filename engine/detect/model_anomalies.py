"""Anomalies of the ML monitor: data drift, prediction drift and performance, on the model's node.

Each anomaly's ``node`` is the model name, so it correlates on the topology like any other
anomaly. Ids derive from the model, the subject and the window or check number (stable on
replay). ``score`` in [0, 1], higher is more anomalous.
"""

from __future__ import annotations

from engine.detect.data_drift import FeatureFinding
from engine.detect.prediction_drift import PredictionFinding
from engine.events import Anomaly, AnomalyKind, JsonDict, Severity, stable_id


def data_drift_anomaly(
    model: str, version: str | None, finding: FeatureFinding, start: float, end: float
) -> Anomaly:
    """Score is ``1 - evidence``; detail carries the test, raw and adjusted p-values."""
    r = finding.result
    evidence = finding.evidence if finding.evidence is not None else 1.0
    detail: JsonDict = {
        "feature": finding.feature,
        "test": r.test,
        "statistic": r.statistic,
        "p_value": r.p_value,
        "adjusted_p_value": finding.adjusted_p_value,
        "threshold": finding.threshold,
        "evidence": evidence,
        "alarm_level": finding.level,
        "effect": r.effect,
        "n_window": r.n_window,
        "n_reference": r.n_reference,
        "window": [start, end],
        "version": version,
    }
    return Anomaly(
        id=stable_id("an", "data_drift", model, finding.feature, end),
        ts=end,
        kind=AnomalyKind.DATA_DRIFT,
        node=model,
        subject={"model": model, "feature": finding.feature},
        score=min(1.0, max(0.0, 1.0 - evidence)),
        severity=Severity.WARNING,
        detail=detail,
        labels={"model": model},
    )


def prediction_drift_anomaly(
    model: str,
    version: str | None,
    finding: PredictionFinding,
    threshold: float,
    window: list[float],
) -> Anomaly:
    """Score ``1 - 2**(-psi / threshold)``: 0.5 at the threshold; critical above twice it."""
    return Anomaly(
        id=stable_id("an", "prediction_drift", model, window[1]),
        ts=window[1],
        kind=AnomalyKind.PREDICTION_DRIFT,
        node=model,
        subject={"model": model, "feature": "prediction"},
        score=1.0 - 2.0 ** (-finding.psi / threshold),
        severity=Severity.CRITICAL if finding.psi > 2 * threshold else Severity.WARNING,
        detail={
            "test": "psi",
            "psi": finding.psi,
            "threshold": threshold,
            "n_window": finding.n_window,
            "window": window,
            "version": version,
        },
        labels={"model": model},
    )


def performance_anomaly(
    model: str, metric: str, value: float, bound: float, detail: JsonDict, ts: float
) -> Anomaly:
    """Score grows with the relative miss; estimates are warnings, measured misses errors.

    ``detail["test"]`` names the test that fired (``wilson``, ``fisher_changepoint``, ...) and
    ``detail["n_labels"]`` the labels it used; a change-point alarm has its own id.
    """
    miss = abs(value - bound) / max(abs(bound), 1e-9)
    estimate = bool(detail.get("estimate"))
    parts: list[object] = ["performance", model, metric, estimate, ts]
    if detail.get("test") == "fisher_changepoint":
        parts.append("fisher_changepoint")
    return Anomaly(
        id=stable_id("an", *parts),
        ts=ts,
        kind=AnomalyKind.PERFORMANCE,
        node=model,
        subject={"model": model, "metric": metric},
        score=min(1.0, 0.5 + miss),
        severity=Severity.WARNING if estimate else Severity.ERROR,
        detail={"metric": metric, "value": value, "bound": bound, **detail},
        labels={"model": model},
    )
