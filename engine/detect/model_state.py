"""State of the ML model monitor: one ``ModelTrack`` per model seen on the predictions topic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.detect.labels_join import LabelJoinState
from engine.detect.profile import ReferenceProfile, Value
from engine.detect.window import WindowState
from engine.vocabulary import JsonDict

PREDICTION = "__prediction__"
"""Key of the model's output in the prediction-drift window and the bootstrap columns."""


@dataclass(slots=True)
class ModelTrack:
    """Everything the monitor remembers about one model (plain data; see ``to_dict``)."""

    reference: ReferenceProfile | None = None
    """Learned from the first predictions when no stored profile covers the model."""
    boot: dict[str, list[Value]] = field(default_factory=dict)
    boot_rows: int = 0
    features: WindowState = field(default_factory=WindowState)
    alarms: dict[str, list[float | bool | None]] = field(default_factory=dict)
    outputs: WindowState = field(default_factory=WindowState)
    output_alarm: bool = False
    labels: LabelJoinState = field(default_factory=LabelJoinState)
    perf_index: int | None = None
    perf_alarms: dict[str, bool] = field(default_factory=dict)
    perf_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Latest check of each metric: status, value, bounds, labels (see performance_window)."""
    version: str | None = None
    scope: dict[str, str] = field(default_factory=dict)
    """Labels of the model's latest prediction that had any (cluster, ...): its anomalies'."""

    def to_dict(self) -> JsonDict:
        return {
            "scope": dict(self.scope),
            "reference": self.reference.to_dict() if self.reference else None,
            "boot": {k: list(v) for k, v in self.boot.items()},
            "boot_rows": self.boot_rows,
            "features": self.features.to_dict(),
            "alarms": {k: list(v) for k, v in self.alarms.items()},
            "outputs": self.outputs.to_dict(),
            "output_alarm": self.output_alarm,
            "labels": self.labels.to_dict(),
            "perf_index": self.perf_index,
            "perf_alarms": dict(self.perf_alarms),
            "perf_status": {k: dict(v) for k, v in self.perf_status.items()},
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelTrack:
        ref = data["reference"]
        return cls(
            reference=ReferenceProfile.from_dict(ref) if ref else None,
            boot={k: list(v) for k, v in data["boot"].items()},
            boot_rows=int(data["boot_rows"]),
            features=WindowState.from_dict(data["features"]),
            alarms={k: list(v) for k, v in data["alarms"].items()},
            outputs=WindowState.from_dict(data["outputs"]),
            output_alarm=bool(data["output_alarm"]),
            labels=LabelJoinState.from_dict(data["labels"]),
            perf_index=data["perf_index"],
            perf_alarms={k: bool(v) for k, v in data["perf_alarms"].items()},
            perf_status={k: dict(v) for k, v in data["perf_status"].items()},
            version=data["version"],
            scope=dict(data["scope"]),
        )


@dataclass(slots=True)
class ModelMonitorState:
    """Per-model tracks and the seed every reservoir sample derives from."""

    models: dict[str, ModelTrack] = field(default_factory=dict)
    seed: int = 0
    version: int = 3

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "seed": self.seed,
            "models": {k: v.to_dict() for k, v in self.models.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMonitorState:
        if int(data["version"]) == 1:
            data = _upgrade_v1_to_v2(data)
        if int(data["version"]) == 2:
            data = _upgrade_v2_to_v3(data)
        return cls(
            models={k: ModelTrack.from_dict(v) for k, v in data["models"].items()},
            seed=int(data["seed"]),
            version=int(data["version"]),
        )


def _upgrade_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """Version 2 keeps each metric's latest status (``perf_status``); v1 had none yet."""
    models = {k: {**v, "perf_status": {}} for k, v in data["models"].items()}
    return {**data, "models": models, "version": 2}


def _upgrade_v2_to_v3(data: Mapping[str, Any]) -> dict[str, Any]:
    """Version 3 keeps the labels of each model's latest prediction (``scope``); until the
    next prediction a restored model's anomalies carry only ``model``, as before."""
    models = {k: {**v, "scope": {}} for k, v in data["models"].items()}
    return {**data, "models": models, "version": 3}
