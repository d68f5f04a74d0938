"""Where a detector wins and loses NAB points: ``python -m benchmarks.nab.explain``.

At the detector's best standard-profile threshold over the given files it lists, per file, each
label window's first detection (its delay in rows from the window start, as a fraction of the
window width, and the reward it earned) or ``MISS``, and where the false positives fall:
before the first window, within one window width after a window ("tail", cheap under NAB's
rules), or far from every window ("far"), with their summed cost. A closing table sums the same
per category, so the data can say what to fix (late detections, misses, or which false
positives cost most).

``--compare ewma`` sets Vigil against another detector, each at its own best threshold: how many
windows both, one or neither detect, and for each window only the other detects why Vigil
missed it, found by scoring again without one mechanism at a time: ``warm-up`` (no score yet),
``quiet`` (found without the quiet period after a report), ``recurrence`` (found without the
recurrence memory), ``zero`` (no evidence above the offsets) or ``weak`` (some, too little).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.nab.corpus import DataFile, load_corpus, load_profiles
from benchmarks.nab.detectors import DETECTORS, SeriesScores
from benchmarks.nab.scorer import LabelledFile, Profile, optimise, row_rewards
from engine.detect.metric import score_series
from engine.detect.metric_config import SeriesConfig

WHY_VARIANTS = {"quiet": SeriesConfig(quiet_points=0), "recurrence": SeriesConfig(recur_slots=0)}
"""Vigil without one mechanism: a window these find at Vigil's threshold was lost to it."""


@dataclass(slots=True)
class FileReport:
    """What a threshold makes of one file: per-window outcomes and false-positive costs."""

    name: str
    windows: list[tuple[int, int, int | None, float]] = field(default_factory=list)
    """(start, end, first detection row or None, reward)."""
    fp_rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    fp_cost: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def missed(self) -> int:
        return sum(1 for w in self.windows if w[2] is None)


def explain_file(labelled: LabelledFile, scores: Sequence[float | None], threshold: float,
                 profile: Profile) -> FileReport:
    """Per-window first detections and classified false positives of one file.

    >>> from benchmarks.nab.scorer import Profile
    >>> f = LabelledFile("c/f.csv", 40, ((20, 29),))
    >>> s = [0.0] * 40; s[22] = s[35] = s[12] = 0.9
    >>> r = explain_file(f, s, 0.5, Profile("standard", 1.0, 1.0, 0.11))
    >>> [(a, b, d, round(w, 3)) for a, b, d, w in r.windows], dict(r.fp_rows)
    ([(20, 29, 22, 0.964)], {'before': [12], 'tail': [35]})
    """
    report = FileReport(labelled.name)
    rewards = row_rewards(labelled, profile)
    first: dict[int, int] = {}
    for i, ((window, reward), score) in enumerate(zip(rewards, scores, strict=True)):
        if score is None or score < threshold:
            continue
        if window >= 0:
            first.setdefault(window, i)
        elif window == -1:
            kind = _fp_kind(labelled, i)
            report.fp_rows[kind].append(i)
            report.fp_cost[kind] += reward
    for k, (start, end) in enumerate(labelled.windows):
        row = first.get(k)
        reward = rewards[row][1] if row is not None else -profile.fn_weight
        report.windows.append((start, end, row, reward))
    return report


def _fp_kind(labelled: LabelledFile, i: int) -> str:
    previous = [(a, b) for a, b in labelled.windows if b < i]
    if not previous:
        return "before"
    start, end = previous[-1]
    return "tail" if i - end <= end - start + 1 else "far"


def print_report(files: list[DataFile], scores: dict[str, SeriesScores], root: Path,
                 verbose: bool) -> None:
    profile = load_profiles(root)[0]
    result = optimise([f.labels for f in files], scores, profile)
    print(f"standard={result.score:.1f} at threshold {result.threshold:.4f} "
          f"(tp {result.tp} fp {result.fp} fn {result.fn})")
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for data in files:
        rep = explain_file(data.labels, scores[data.name], result.threshold, profile)
        cat = totals[data.category]
        for start, end, row, reward in rep.windows:
            cat["windows"] += 1
            cat["missed"] += row is None
            cat["reward"] += reward
            if row is not None:
                cat["delay"] += (row - start) / (end - start + 1)
        for kind, rows in rep.fp_rows.items():
            cat[f"fp_{kind}"] += len(rows)
            cat[f"cost_{kind}"] += rep.fp_cost[kind]
        if verbose:
            _print_file(rep)
    print(f"\n{'category':<22}{'win':>4}{'miss':>5}{'delay':>7}{'reward':>8}  "
          "fp before/tail/far (cost)")
    for name, cat in sorted(totals.items()):
        hits = cat["windows"] - cat["missed"]
        delay = cat["delay"] / hits if hits else 0.0
        fps = "/".join(f"{cat[f'fp_{k}']:.0f}" for k in ("before", "tail", "far"))
        costs = "/".join(f"{cat[f'cost_{k}']:.2f}" for k in ("before", "tail", "far"))
        print(f"{name:<22}{cat['windows']:4.0f}{cat['missed']:5.0f}{delay:7.2f}"
              f"{cat['reward']:8.2f}  {fps} ({costs})")


def _print_file(rep: FileReport) -> None:
    parts = []
    for start, end, row, reward in rep.windows:
        if row is None:
            parts.append(f"[{start}-{end}] MISS")
        else:
            parts.append(f"[{start}-{end}] +{(row - start) / (end - start + 1):.2f}w "
                         f"r={reward:.2f}")
    fps = " ".join(f"{k}:{len(v)}({rep.fp_cost[k]:.2f})" for k, v in sorted(rep.fp_rows.items()))
    print(f"{rep.name:<58} {'; '.join(parts)}  fp {fps or '-'}")


def _found(scores: Sequence[float | None], window: tuple[int, int], threshold: float) -> bool:
    return any(s is not None and s >= threshold for s in scores[window[0]:window[1] + 1])


def compare(files: list[DataFile], other: str, root: Path, verbose: bool) -> None:
    """Windows Vigil and ``other`` find, each at its best threshold; why Vigil missed the
    windows only ``other`` finds."""
    profile = load_profiles(root)[0]
    labels = [f.labels for f in files]
    runs = {name: {f.name: DETECTORS[name](f) for f in files} for name in ("vigil", other)}
    best = {name: optimise(labels, runs[name], profile) for name in runs}
    for name, r in best.items():
        print(f"{name:>15} standard={r.score:.1f} at threshold {r.threshold:.4f} "
              f"(tp {r.tp} fp {r.fp} fn {r.fn})")
    variants = {why: {f.name: score_series(f.ts_s, f.values, cfg) for f in files}
                for why, cfg in WHY_VARIANTS.items()}
    outcome: dict[str, int] = defaultdict(int)
    reasons: dict[str, list[str]] = defaultdict(list)
    t_vigil, t_other = best["vigil"].threshold, best[other].threshold
    for data in files:
        ours, theirs = runs["vigil"][data.name], runs[other][data.name]
        for window in data.labels.windows:
            mine, yours = _found(ours, window, t_vigil), _found(theirs, window, t_other)
            outcome[("both" if yours else "vigil only") if mine else
                    (f"{other} only" if yours else "neither")] += 1
            if yours and not mine:
                why = why_missed(data, window, ours, variants, t_vigil)
                reasons[why].append(f"{data.name} [{window[0]}-{window[1]}]")
    print("windows: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    print(f"why Vigil missed the {other}-only windows: "
          + ", ".join(f"{k} {len(v)}" for k, v in sorted(reasons.items())))
    for why, where in sorted(reasons.items()) if verbose else ():
        print(f"  {why}: " + "; ".join(where))


def why_missed(data: DataFile, window: tuple[int, int], ours: Sequence[float | None],
               variants: dict[str, dict[str, SeriesScores]], threshold: float) -> str:
    """Why Vigil's ``ours`` has no score of ``threshold`` in ``window``: ``warm-up``, the first
    of ``variants`` (Vigil without one mechanism) that finds it, ``zero`` or ``weak``."""
    inside = [s for s in ours[window[0]:window[1] + 1] if s is not None]
    if not inside:
        return "warm-up"
    for why, scores in variants.items():
        if _found(scores[data.name], window, threshold):
            return why
    return "zero" if max(inside) <= 0.0 else "weak"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab.explain")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/nab"))
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="vigil")
    parser.add_argument("--summary", action="store_true", help="only the per-category table")
    parser.add_argument("--compare", choices=sorted(set(DETECTORS) - {"vigil"}),
                        help="windows Vigil and this detector find; why Vigil missed")
    args = parser.parse_args()
    files = load_corpus(args.data)
    if args.compare:
        compare(files, args.compare, args.data, not args.summary)
        return
    detector = DETECTORS[args.detector]
    scores = {f.name: detector(f) for f in files}
    print_report(files, scores, args.data, not args.summary)


if __name__ == "__main__":
    main()
