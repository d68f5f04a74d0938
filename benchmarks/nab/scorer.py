"""A NAB-compatible scorer, written from the published NAB scoring rules (no NAB code).

Rules (Lavin & Ahmad 2015; NAB v1.1 whitepaper):

- The first ``min(floor(0.15 * rows), 750)`` rows of a file are probationary: detections there
  are ignored.
- A detection is a row whose anomaly score is ``>= threshold``.
- Inside a label window only the earliest detection counts. Its reward is
  ``tp_weight * sigma(-(end - i + 1) / width)`` with the scaled sigmoid
  ``sigma(y) = 2 / (1 + exp(5 y)) - 1``: almost 1 at the window's first row, near 0 at its last.
- A window without a detection costs ``-fn_weight``.
- A detection outside every window is a false positive weighted by its distance from the
  preceding window: ``fp_weight * sigma(|i - prev_end| / (prev_width - 1))`` (in [-fp_weight, 0]);
  before the first window it costs ``-fp_weight``.
- One threshold per profile is chosen to maximise the raw score summed over all files; the sum is
  normalised so that the null detector (never detects) scores 0 and the perfect detector
  (detects every window at its first row) scores 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

PROBATION_FRACTION: Final = 0.15
PROBATION_CAP_ROWS: Final = 750


@dataclass(frozen=True, slots=True)
class Profile:
    """Cost-matrix weights of one NAB profile."""

    name: str
    tp_weight: float
    fn_weight: float
    fp_weight: float


@dataclass(frozen=True, slots=True)
class LabelledFile:
    """Row count and label windows (inclusive row indices) of one data file."""

    name: str
    rows: int
    windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class ProfileScore:
    """Best threshold and the normalised score (null = 0, perfect = 100) at it."""

    profile: str
    threshold: float
    score: float
    raw: float
    tp: int
    fp: int
    fn: int


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: 2 / (1 + e^(5y)) - 1, in (-1, 1), 0 at y = 0.

    >>> round(scaled_sigmoid(-1.0), 4), scaled_sigmoid(0.0)
    (0.9866, 0.0)
    """
    if y > 50:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(rows: int) -> int:
    """Rows at the start of a file where detections are ignored.

    >>> probation_rows(4032), probation_rows(22695)
    (604, 750)
    """
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_CAP_ROWS)


def row_rewards(labelled: LabelledFile, profile: Profile) -> list[tuple[int, float]]:
    """For each row: (window number or -1, reward of a detection there); probation rows get
    window -2 and are never counted."""
    out: list[tuple[int, float]] = []
    start_of = {start: (k, end) for k, (start, end) in enumerate(labelled.windows)}
    probation = probation_rows(labelled.rows)
    current: tuple[int, int, int] | None = None  # (window number, end, width)
    previous: tuple[int, int] | None = None  # (end, width)
    for i in range(labelled.rows):
        if i in start_of:
            k, end = start_of[i]
            current = (k, end, end - i + 1)
        if current is not None:
            k, end, width = current
            reward = profile.tp_weight * scaled_sigmoid(-(end - i + 1) / width)
            out.append((k if i >= probation else -2, reward))
            if i == end:
                previous, current = (end, width), None
            continue
        if previous is None:
            reward = -profile.fp_weight
        else:
            end, width = previous
            reward = profile.fp_weight * scaled_sigmoid(abs(i - end) / max(width - 1, 1))
        out.append((-1 if i >= probation else -2, reward))
    return out


def bounds(files: Sequence[LabelledFile], profile: Profile) -> tuple[float, float]:
    """Raw scores of the null and the perfect detector summed over ``files``."""
    windows = sum(len(f.windows) for f in files)
    null = -profile.fn_weight * windows
    perfect = profile.tp_weight * scaled_sigmoid(-1.0) * windows
    return null, perfect


def optimise(
    files: Sequence[LabelledFile],
    scores: Mapping[str, Sequence[float | None]],
    profile: Profile,
) -> ProfileScore:
    """Sweep every distinct score as the threshold; return the best normalised result.

    ``None`` scores (warm-up) never count as detections.
    """
    events: list[tuple[float, int, int, float]] = []  # (score, global window id or -1, _, reward)
    window_base = 0
    for labelled in files:
        file_scores = scores[labelled.name]
        if len(file_scores) != labelled.rows:
            raise ValueError(f"{labelled.name}: {len(file_scores)} scores for {labelled.rows} rows")
        rewards = row_rewards(labelled, profile)
        for (window, reward), score in zip(rewards, file_scores, strict=True):
            if window == -2 or score is None:
                continue
            events.append((score, window_base + window if window >= 0 else -1, 0, reward))
        window_base += len(labelled.windows)
    return _sweep(events, window_base, files, profile)


def _sweep(
    events: list[tuple[float, int, int, float]],
    n_windows: int,
    files: Sequence[LabelledFile],
    profile: Profile,
) -> ProfileScore:
    events.sort(key=lambda e: -e[0])
    best_in: list[float | None] = [None] * n_windows
    null, perfect = bounds(files, profile)
    raw, tp, fp = null, 0, 0
    best = (raw, math.inf, 0, 0)
    for j, (score, window, _, reward) in enumerate(events):
        if window < 0:
            raw += reward
            fp += 1
        else:
            held = best_in[window]
            if held is None:
                raw += reward + profile.fn_weight
                tp += 1
                best_in[window] = reward
            elif reward > held:
                raw += reward - held
                best_in[window] = reward
        if (j + 1 == len(events) or events[j + 1][0] != score) and raw > best[0]:
            best = (raw, score, tp, fp)
    raw, threshold, tp, fp = best
    normalised = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return ProfileScore(profile.name, threshold, normalised, raw, tp, fp, n_windows - tp)
