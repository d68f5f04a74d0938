"""The ML monitor's tumbling windows: fill them from a batch, close them into drift checks.

Features go to ``track.features`` (checked by ``engine.detect.data_drift``), the model's outputs
to ``track.outputs`` (checked by ``engine.detect.prediction_drift``). A window closes when a
value of a later window arrives or ``now`` passes its end; an onset becomes an ``Anomaly``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.detect.data_drift import check_data_drift, monitored_features
from engine.detect.model_anomalies import data_drift_anomaly, prediction_drift_anomaly
from engine.detect.model_state import PREDICTION, ModelTrack
from engine.detect.prediction_drift import check_prediction_drift
from engine.detect.profile import ReferenceProfile
from engine.detect.window import add_categorical, add_numeric, numeric_column, segments
from engine.events import Anomaly, Prediction
from engine.rules.monitoring import ModelMonitoringSpec


@dataclass(frozen=True, slots=True)
class ModelCheck:
    """One model's rules, state and reference profile, and the list its anomalies go to.

    ``track`` and ``out`` are updated in place by the functions below.
    """

    model: str
    spec: ModelMonitoringSpec
    track: ModelTrack
    reference: ReferenceProfile
    out: list[Anomaly]


def add_features(check: ModelCheck, preds: list[Prediction], ts: np.ndarray, seed: int) -> None:
    """Add the monitored features of ``preds`` (event times ``ts``) to the feature windows."""
    drift, reference, window = check.spec.data_drift, check.reference, check.track.features
    assert drift is not None  # noqa: S101  (checked by the caller)
    feats = [p.features for p in preds]
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, list[float | str | None]] = {}
    for feature in monitored_features(drift, reference):
        column = [f.get(feature.name) for f in feats]
        if feature.name in reference.numeric:
            numeric[feature.name] = numeric_column(column)
        else:
            categorical[feature.name] = column
    for index, start, stop in segments(ts, drift.check_interval, window.index):
        roll_features(check, index)
        for name, values in numeric.items():
            add_numeric(window, name, values[start:stop], drift.window_max_samples, seed)
        for name, column in categorical.items():
            add_categorical(window, name, column[start:stop])
        window.seen += stop - start


def roll_features(check: ModelCheck, index: int) -> None:
    """Close the open window if ``index`` is later: run the check, then start ``index``."""
    track = check.track
    window, drift = track.features, check.spec.data_drift
    assert drift is not None  # noqa: S101
    if window.index is not None and index <= window.index:
        return
    if window.index is not None:
        start = window.index * drift.check_interval
        end = start + drift.check_interval
        for finding in check_data_drift(window, check.reference, drift, track.alarms):
            if finding.onset:
                anomaly = data_drift_anomaly(check.model, track.version, finding, start, end)
                check.out.append(anomaly)
    window.reset(index)


def add_outputs(check: ModelCheck, preds: list[Prediction], ts: np.ndarray, seed: int) -> None:
    """Add the model's outputs for ``preds`` (event times ``ts``) to the output window."""
    drift, track = check.spec.prediction_drift, check.track
    assert drift is not None  # noqa: S101
    column = [output_of(p) for p in preds]
    numeric = isinstance(check.reference.prediction, np.ndarray)
    values = numeric_column(column) if numeric else None
    for index, start, stop in segments(ts, drift.check_interval, track.outputs.index):
        roll_outputs(check, index)
        if values is not None:
            cap = drift.window_max_samples
            add_numeric(track.outputs, PREDICTION, values[start:stop], cap, seed)
        else:
            add_categorical(track.outputs, PREDICTION, column[start:stop])
        track.outputs.seen += stop - start


def roll_outputs(check: ModelCheck, index: int) -> None:
    """Close the open output window if ``index`` is later: check PSI, then start ``index``."""
    track = check.track
    window, drift = track.outputs, check.spec.prediction_drift
    assert drift is not None  # noqa: S101  (checked by the caller)
    assert check.reference.prediction is not None  # noqa: S101
    if window.index is not None and index <= window.index:
        return
    if window.index is not None:
        finding, track.output_alarm = check_prediction_drift(
            window.samples.get(PREDICTION),
            window.counts.get(PREDICTION),
            check.reference.prediction,
            drift,
            track.output_alarm,
        )
        if finding is not None and finding.onset:
            start = window.index * drift.check_interval
            span = [start, start + drift.check_interval]
            check.out.append(
                prediction_drift_anomaly(check.model, track.version, finding, drift.threshold, span)
            )
    window.reset(index)


def output_of(p: Prediction) -> float | int | str:
    """What prediction drift watches: the score when the model gives one, else the prediction."""
    return p.score if p.score is not None else p.prediction
