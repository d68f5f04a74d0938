"""Rule section ``detectors``: which detector scores which metric series, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.rules.base import StrictModel


class MetricDetectorRule(StrictModel):
    """A detector for the series whose labels (and ``__name__``) match ``match`` exactly."""

    match: dict[str, str] = Field(default_factory=dict)
    detector: Literal["ewma"] = "ewma"
    alpha: float = Field(0.05, gt=0.0, le=1.0)
    min_samples: int = Field(30, ge=1)
    threshold: float = Field(0.99, gt=0.0, lt=1.0)
    """Score at or above which a point becomes an anomaly."""


class DetectorRules(StrictModel):
    metrics: list[MetricDetectorRule] = Field(default_factory=lambda: [MetricDetectorRule()])
