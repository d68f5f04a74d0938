"""Rule section ``logs``: template mining and log anomaly settings."""

from __future__ import annotations

from typing import Literal

from engine.rules.base import StrictModel


class LogRules(StrictModel):
    new_template_min_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] = "WARN"
