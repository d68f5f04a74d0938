"""Rule section ``logs``: template mining (masks, caps) and log anomaly settings.

Every key has a default, so no ``logs`` section at all gives a working detector.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from engine.rules.base import DurationS, StrictModel


class MaskRule(StrictModel):
    """One masking regex: every match becomes ``replacement`` before templating."""

    name: str
    regex: str
    replacement: str = "<*>"

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from exc
        return value


class LogRules(StrictModel):
    new_template_min_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] = "WARN"
    """A never-seen template at this level or above is an anomaly."""
    masking: list[MaskRule] | None = None
    """Masks applied in order; absent means the built-in masks (``engine.ingest.masking``)."""
    similarity: float = Field(0.5, gt=0.0, le=1.0)
    min_variable_values: int = Field(4, ge=2)
    max_templates_per_service: int = Field(2000, ge=1)
    max_services: int = Field(1000, ge=1)
    multiline: bool = True
    window_s: DurationS = 60.0
    min_windows: int = Field(10, ge=1)
    """Warm-up: closed windows of history before rate and ratio checks run."""
    baseline_alpha: float = Field(0.1, gt=0.0, le=1.0)
    min_count: int = Field(5, ge=1)
    """Fewest messages in a window (or expected) before a rate or ratio is judged."""
    spike_factor: float = Field(5.0, gt=1.0)
    drop_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    error_ratio_delta: float = Field(0.2, gt=0.0, le=1.0)
    error_ratio_p: float = Field(1e-4, gt=0.0, lt=1.0)
    """The window's error count must also be rarer than this at the baseline share."""
    learning_s: DurationS = 3600.0
    """A service's first hour of logs teaches its templates and rates and raises nothing."""
