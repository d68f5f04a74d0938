"""NAB benchmark: ``python -m benchmarks.nab [--data DIR] [--quick] [--results DIR] [--explain]``.

Runs Vigil's metric detector, the EWMA z-score and river's HalfSpaceTrees strictly online over
the NAB corpus, prints the three profile scores of each, Vigil's and HalfSpaceTrees' points/s
on the same points and the embedded metric operator's points/s over 10,000 series.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.nab.corpus import DataFile, load_corpus, load_profiles
from benchmarks.nab.detectors import DETECTORS, Detector, SeriesScores
from benchmarks.nab.explain import print_report
from benchmarks.nab.results import write_results
from benchmarks.nab.scorer import optimise
from benchmarks.nab.throughput import operator_points_per_s

QUICK = {
    "artificialWithAnomaly/art_daily_jumpsup.csv", "artificialNoAnomaly/art_daily_small_noise.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv", "realAdExchange/exchange-2_cpc_results.csv",
    "realKnownCause/nyc_taxi.csv", "realKnownCause/machine_temperature_system_failure.csv",
    "realTraffic/speed_7578.csv", "realTweets/Twitter_volume_GOOG.csv",
}

HELD_OUT = {"realKnownCause", "realTweets"}
"""Categories not looked at while tuning Vigil's detector (reported separately)."""


def run_detector(detector: Detector,
                 files: list[DataFile]) -> tuple[dict[str, SeriesScores], float]:
    scores: dict[str, SeriesScores] = {}
    elapsed = 0.0
    for data in files:
        start = time.perf_counter()
        scores[data.name] = detector(data)
        elapsed += time.perf_counter() - start
    return scores, elapsed


def timed_rates(files: list[DataFile], rounds: int) -> dict[str, list[float]]:
    """Points/s of each detector on the same files, interleaved over ``rounds`` rounds (the
    machine is shared, so single timings vary a lot; compare medians)."""
    points = sum(f.labels.rows for f in files)
    rates: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for name in ("vigil", "halfspacetrees"):
            rates[name].append(points / run_detector(DETECTORS[name], files)[1])
    return rates


def report(name: str, files: list[DataFile], scores: dict[str, SeriesScores], root: Path,
           by_category: bool, held_out: set[str] = HELD_OUT) -> None:
    line = [f"{name:>15}"]
    for profile in load_profiles(root):
        result = optimise([f.labels for f in files], scores, profile)
        line.append(f"{profile.name}={result.score:6.1f} (thr {result.threshold:.4f} "
                    f"tp {result.tp} fp {result.fp} fn {result.fn})")
    print("  ".join(line))
    if not by_category:
        return
    groups: dict[str, list[DataFile]] = defaultdict(list)
    for data in files:
        groups[data.category].append(data)
    standard = load_profiles(root)[0]
    held = [f for f in files if f.category in held_out]
    tuned = [f for f in files if f.category not in held_out]
    for label, group in (("tuned-on", tuned), ("held-out", held)):
        if any(g.labels.windows for g in group):
            result = optimise([g.labels for g in group], scores, standard)
            print(f"{'':>17}{label + ' categories':<24} standard={result.score:6.1f} "
                  f"tp {result.tp} fp {result.fp} fn {result.fn}")
    for category, group in sorted(groups.items()):
        if any(g.labels.windows for g in group):
            result = optimise([g.labels for g in group], scores, standard)
            print(f"{'':>17}{category:<24} standard={result.score:6.1f} "
                  f"tp {result.tp} fp {result.fp} fn {result.fn}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/nab"))
    parser.add_argument("--quick", action="store_true", help="8 files, one per category")
    parser.add_argument("--results", type=Path, help="write NAB-format result files here")
    parser.add_argument("--only", choices=sorted(DETECTORS), action="append")
    parser.add_argument("--categories", action="store_true", help="per-category standard score")
    parser.add_argument("--series", type=int, default=10_000, help="series for the operator run")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    parser.add_argument("--held-out", action="append", metavar="CATEGORY",
                        help="category reported apart from the others (repeatable; default "
                             + " and ".join(sorted(HELD_OUT)) + ")")
    parser.add_argument("--explain", action="store_true",
                        help="per window: first detection or miss; where false positives fall")
    args = parser.parse_args()
    files = load_corpus(args.data, QUICK if args.quick else None)
    points = sum(f.labels.rows for f in files)
    print(f"{platform.machine()} py{platform.python_version()} files={len(files)} points={points}")
    for name in args.only or ["vigil", "ewma", "halfspacetrees"]:
        scores, _ = run_detector(DETECTORS[name], files)
        report(name, files, scores, args.data, args.categories,
               set(args.held_out) if args.held_out else HELD_OUT)
        if args.explain:
            print_report(files, scores, args.data, verbose=True)
        if args.results:
            write_results(args.results, name, files, scores)
    if args.rounds:
        timing = load_corpus(args.data, QUICK)
        rates = timed_rates(timing, args.rounds)
        print(f"timing: {args.rounds} interleaved rounds over the {len(timing)} quick files "
              f"({sum(f.labels.rows for f in timing)} points); median (min..max) points/s")
        for name, values in rates.items():
            print(f"{name:>15} {statistics.median(values):12,.0f} "
                  f"({min(values):,.0f}..{max(values):,.0f})")
        vigil, trees = rates["vigil"], rates["halfspacetrees"]
        ratios = [v / h for v, h in zip(vigil, trees, strict=True)]
        print(f"{'ratio':>15} {statistics.median(ratios):12.1f}x median of per-round ratios; "
              f"{statistics.median(vigil) / statistics.median(trees):.1f}x ratio of medians "
              "(vigil / halfspacetrees)")
    if args.series:
        series, rate = args.series, operator_points_per_s(args.series, 20 if args.quick else 50)
        print(f"{'operator':>15} {rate:12,.0f} points/s over {series:,} series")


if __name__ == "__main__":
    main()
