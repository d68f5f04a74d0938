"""Detectors compared at the same clean false-report rate (``benchmarks.nab.synthetic``).

A family of generated series (one interval, one generator) holds clean series and series with
one injected anomaly each. Every detector of ``benchmarks.nab.detectors`` scores every series
strictly online; each detector's threshold is the one at which the family's clean series give
at most ``per_1000_days`` reports per 1,000 series-days (a report is a point scoring at or above
the threshold, after the series' warm-up), so the detectors are compared at one false-alarm
rate rather than each at a number of its own scale. Vigil is also shown at its rule threshold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.detectors import DETECTORS, REFERENCES, SeriesScores
from benchmarks.nab.scorer import LabelledFile


@dataclass(frozen=True, slots=True)
class Case:
    """One generated series: ``at`` is the injection's index (``None`` on a clean series), a
    detection is a report in ``[at, at + detect)``, and reports outside it count as false
    from index ``warm`` up to ``clean_until`` (a kept level shift ends the clean part)."""

    kind: str
    ts: list[float]
    values: list[float]
    at: int | None
    detect: int
    warm: int
    clean_until: int

    def days(self) -> float:
        step = self.ts[1] - self.ts[0]
        return (self.clean_until - self.warm) * step / 86_400.0


@dataclass(frozen=True, slots=True)
class Outcome:
    found: bool
    delay: int | None
    false_reports: int


def score(detector: str, case: Case) -> SeriesScores:
    data = DataFile(case.kind, [], case.ts, case.values,
                    LabelledFile(case.kind, len(case.values), ()))
    return {**DETECTORS, **REFERENCES}[detector](data)


def outcome(case: Case, scores: SeriesScores, threshold: float) -> Outcome:
    hits = [i for i, s in enumerate(scores) if s is not None and s >= threshold]
    inside = [] if case.at is None else [i for i in hits if case.at <= i < case.at + case.detect]
    false = sum(1 for i in hits if case.warm <= i < case.clean_until and i not in inside)
    return Outcome(bool(inside), inside[0] - case.at if inside and case.at is not None else None,
                   false)


def matched_threshold(cases: Sequence[Case], scores: Sequence[SeriesScores],
                      per_1000_days: float) -> float:
    """The lowest threshold at which the clean cases give at most ``per_1000_days`` reports
    per 1,000 series-days."""
    clean = [(c, s) for c, s in zip(cases, scores, strict=True) if c.at is None]
    if not clean:
        raise ValueError("a family needs clean series to match thresholds on")
    allowed = int(per_1000_days * sum(c.days() for c, _ in clean) / 1000.0)
    ranked = sorted((v for c, s in clean for v in s[c.warm:c.clean_until] if v is not None),
                    reverse=True)
    if allowed >= len(ranked):
        return ranked[-1] if ranked else 0.0
    return math.nextafter(ranked[allowed], math.inf)


def _cell(cases: Sequence[Case], outcomes: Sequence[Outcome]) -> str:
    days = sum(c.days() for c in cases)
    false = 1000.0 * sum(o.false_reports for o in outcomes) / days if days else 0.0
    if cases[0].at is None:
        return f"{'-':>5} {'':>3} {false:6.1f}"
    delays = [o.delay for o in outcomes if o.delay is not None]
    delay = f"{statistics.median(delays):.0f}" if delays else "-"
    return f"{sum(o.found for o in outcomes):2d}/{len(cases):<2d} {delay:>3} {false:6.1f}"


def compare(title: str, cases: Sequence[Case], rule_threshold: float,
            per_1000_days: float, detectors: Sequence[str] = tuple(DETECTORS)) -> None:
    """Print, per kind, detections / median delay (points) / false reports per 1,000
    series-days for Vigil at ``rule_threshold`` and every detector at the matched threshold."""
    scores = {name: [score(name, c) for c in cases] for name in detectors}
    columns = [("vigil", rule_threshold, "rule")] if "vigil" in detectors else []
    columns += [(name, matched_threshold(cases, scores[name], per_1000_days), "matched")
                for name in detectors]
    print(f"{title}: clean false reports matched at {per_1000_days:g} per 1,000 series-days; "
          "cells: detected, median delay (points), false reports per 1,000 series-days")
    print(f"  {'':>14}" + "".join(f"{n + ' ' + how:>24}" for n, _, how in columns))
    print(f"  {'threshold':>14}" + "".join(f"{t:>24.4g}" for _, t, _ in columns))
    for kind in dict.fromkeys(c.kind for c in cases):
        idx = [i for i, c in enumerate(cases) if c.kind == kind]
        group = [cases[i] for i in idx]
        cells = [_cell(group, [outcome(cases[i], scores[n][i], t) for i in idx])
                 for n, t, _ in columns]
        print(f"  {kind:>14}" + "".join(f"{cell:>24}" for cell in cells))
