"""Multi-corpus benchmark: ``python -m benchmarks.nab.corpora --corpus NAME=DIR ...``.

Every corpus is a folder in NAB layout (``data/``, ``labels/combined_windows.json``,
``config/profiles.json``): NAB itself, and the corpora ``benchmarks.nab.convert`` writes (see
``benchmarks/nab/README.md`` for how to get them). Vigil's metric detector (one configuration,
the default), the EWMA z-score and river's HalfSpaceTrees score every series strictly online in
the same run, and the same NAB scorer scores each corpus with its best threshold per detector,
then all corpora pooled with one threshold (the test of calibration: one threshold must mean
the same on every series). Corpora and NAB categories are split into tuned-on and held-out
(decided before tuning; printed on every run). Calibration evidence: Vigil's reports at the
default rule threshold outside every label window, per 1,000 series-days.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.nab.corpus import DataFile, load_corpus, load_profiles
from benchmarks.nab.detectors import DETECTORS, SeriesScores
from benchmarks.nab.scorer import LabelledFile, Profile, optimise
from engine.rules.detectors import DetectorRules

TUNED_ON = {"nab", "smd", "nab-1h", "smd-1h"}
"""Corpora looked at while tuning (NAB less its held-out categories); all others are held out.
An hourly rollup (``NAME-1h``, ``benchmarks.nab.hourly``) keeps its source's split."""
NAB_HELD_OUT = {"realKnownCause", "realTweets"}
"""NAB categories never looked at while tuning (in ``nab`` and ``nab-1h``)."""
DEFAULT_CORPORA = ("nab=/work/shared/datasets/nab", "smd=/work/data/smd", "asd=/work/data/asd",
                   "nab-1h=/work/data/nab-1h", "smd-1h=/work/data/smd-1h",
                   "asd-1h=/work/data/asd-1h")


def held_out(corpus: str, data: DataFile) -> bool:
    return corpus not in TUNED_ON or (corpus in ("nab", "nab-1h")
                                      and data.category in NAB_HELD_OUT)


def run(name: str, corpus: str, files: list[DataFile],
        cache: Path | None) -> tuple[dict[str, SeriesScores], float]:
    """Scores of detector ``name`` on every file, and the seconds it took (cached detectors
    other than Vigil are read back from ``cache`` with their first timing)."""
    path = cache / f"{corpus}-{name}-{len(files)}.pickle" if cache else None
    if path is not None and name != "vigil" and path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file
    start = time.perf_counter()
    scores = {f.name: DETECTORS[name](f) for f in files}
    result = scores, time.perf_counter() - start
    if path is not None and name != "vigil":
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(result, fh)
    return result


def false_reports(files: Sequence[DataFile], scores: dict[str, SeriesScores],
                  threshold: float) -> tuple[int, float]:
    """Reports (scores at or above ``threshold``) outside every label window, after NAB's
    probation, and the series-days of those clean points."""
    from benchmarks.nab.scorer import probation_rows

    reports, seconds = 0, 0.0
    for data in files:
        inside = [False] * data.labels.rows
        for a, b in data.labels.windows:
            inside[a:b + 1] = [True] * (b - a + 1)
        series = scores[data.name]
        start = probation_rows(data.labels.rows)
        for i in range(max(start, 1), data.labels.rows):
            if inside[i]:
                continue
            seconds += data.ts_s[i] - data.ts_s[i - 1]
            score = series[i]
            if score is not None and score >= threshold:
                reports += 1
    return reports, seconds / 86_400.0


def at_threshold(files: list[LabelledFile], scores: dict[str, SeriesScores],
                 profile: Profile, threshold: float) -> float:
    """The normalised score (null 0, perfect 100) with ``threshold`` fixed, not optimised."""
    from benchmarks.nab.scorer import bounds, row_rewards

    null, perfect = bounds(files, profile)
    raw = null
    for labelled in files:
        found: dict[int, float] = {}
        for (window, reward), score in zip(row_rewards(labelled, profile), scores[labelled.name],
                                           strict=True):
            if window == -2 or score is None or score < threshold:
                continue
            if window == -1:
                raw += reward
            elif window not in found:
                found[window] = reward
        raw += sum(reward + profile.fn_weight for reward in found.values())
    return 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0


def score_line(label: str, files: list[DataFile], scores: dict[str, SeriesScores],
               profile: Profile) -> str:
    labelled: list[LabelledFile] = [f.labels for f in files]
    if not any(f.windows for f in labelled):
        return f"{label:<30} (no label windows)"
    r = optimise(labelled, scores, profile)
    return (f"{label:<30} {profile.name}={r.score:6.1f} thr {r.threshold:8.4f} "
            f"tp {r.tp:4d} fp {r.fp:5d} fn {r.fn:4d}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab.corpora")
    parser.add_argument("--corpus", action="append", metavar="NAME=DIR",
                        help="a corpus in NAB layout (repeatable; default: "
                             + " ".join(DEFAULT_CORPORA) + ")")
    parser.add_argument("--only", choices=sorted(DETECTORS), action="append")
    parser.add_argument("--cache", type=Path, help="reuse baseline detectors' scores from here")
    parser.add_argument("--categories", action="store_true", help="per-category scores too")
    args = parser.parse_args()
    corpora = {}
    for spec in args.corpus or DEFAULT_CORPORA:
        name, _, folder = spec.partition("=")
        corpora[name] = (Path(folder), load_corpus(Path(folder)))
    standard = load_profiles(next(iter(corpora.values()))[0])[0]
    threshold = DetectorRules().metrics[0].threshold
    print("tuned-on: " + ", ".join(sorted(c for c in corpora if c in TUNED_ON))
          + f" (nab, nab-1h less {', '.join(sorted(NAB_HELD_OUT))}); held-out: "
          + ", ".join(sorted({c for c in corpora if c not in TUNED_ON}
                             | {f"nab*/{c}" for c in NAB_HELD_OUT})))
    for name in args.only or ["vigil", "ewma", "halfspacetrees"]:
        pooled_files: list[DataFile] = []
        pooled: dict[str, SeriesScores] = {}
        split: dict[bool, list[DataFile]] = {False: [], True: []}
        for corpus, (_, files) in corpora.items():
            scores, seconds = run(name, corpus, files, args.cache)
            points = sum(f.labels.rows for f in files)
            print(f"{name:>15} {corpus:<14} files {len(files):4d} points {points:8d} "
                  f"{points / seconds:9,.0f} points/s")
            print(f"{'':>16}" + score_line(corpus, files, scores, standard))
            if args.categories:
                for category in sorted({f.category for f in files}):
                    group = [f for f in files if f.category == category]
                    print(f"{'':>18}" + score_line(category, group, scores, standard))
            keyed = {f"{corpus}:{k}": v for k, v in scores.items()}
            for f in files:
                renamed = DataFile(f"{corpus}:{f.name}", f.timestamps, f.ts_s, f.values,
                                   LabelledFile(f"{corpus}:{f.name}", f.labels.rows,
                                                f.labels.windows))
                pooled_files.append(renamed)
                split[held_out(corpus, f)].append(renamed)
            pooled.update(keyed)
            if name == "vigil":
                fixed = at_threshold([f.labels for f in files], scores, standard, threshold)
                print(f"{'':>16}{'at the rule threshold':<30} {standard.name}={fixed:6.1f} "
                      f"thr {threshold:8.4f}")
                reports, days = false_reports(files, scores, threshold)
                print(f"{'':>16}{'clean-data reports':<30} {reports} at threshold {threshold} "
                      f"over {days:,.0f} series-days: {1000 * reports / days:.1f} per 1,000")
        for label, group in (("tuned-on (one threshold)", split[False]),
                             ("held-out (one threshold)", split[True]),
                             ("all corpora (one threshold)", pooled_files)):
            print(f"{name:>15} " + score_line(label, group, pooled, standard))


if __name__ == "__main__":
    main()
