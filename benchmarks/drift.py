"""ML monitoring benchmark: throughput, detection delay, false alarms, scipy batch baseline.

Run: ``python -m benchmarks.drift`` (full, a few minutes) or ``--quick``. Streams are synthetic
and seeded (``testing.scenarios.predictions``); no dataset is read, so ``--data`` is
accepted for symmetry with the other benchmarks and ignored.

1. Throughput: predictions/s through ``ModelMonitor`` (20 features: 10 numeric, 10 categorical;
   data drift 1h, PSI 6h, f1/precision on delayed labels), against the baseline of recomputing
   the same statistics in batch with scipy on full windows at every check.
2. Detection delay: for each injected drift (mean shift, variance change, new category, label
   shift) at a random, unaligned time, the delay to the first ML anomaly, in check intervals,
   with the user's config thresholds (p < 0.05 hourly, PSI > 0.2 every 6h).
3. False alarms: 30-day stationary streams, data-drift alarms per monitored feature per 30 days,
   for the user's 2 features and for 20 features, with the alarm control (``engine.detect.alarm``)
   and without it (``correction: none``, ``expected_run_time`` = the check interval, so a feature
   alarms at every new excursion below p < 0.05); plus the raw count of scipy checks at p < 0.05.
4. Performance alarms on late labels, end to end through ``vigil replay``
   (``benchmarks.drift_labels``): false performance alarms per model-year and concept-shift
   detection delay, confidence-bound alarms against the point-estimate rule.

``--part stream`` runs 1-3 only, ``--part labels`` only 4 (default: all).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Iterator

import numpy as np
from scipy import stats

from benchmarks.drift_labels import labels_benchmark
from engine.detect.model import ModelMonitor
from engine.events import Anomaly, GroundTruth, Prediction
from engine.rules import parse
from testing.scenarios.predictions import generate_predictions

NUMERIC = ["amount"] + [f"num{i}" for i in range(1, 10)]
CATEGORICAL = ["merchant"] + [f"cat{i}" for i in range(1, 10)]
USER_FEATURES = ["amount", "merchant"]


NO_CONTROL = "    correction: none\n    expected_run_time: 1h\n"
"""Alarm control off: no correction across features, alarm level = the p-value threshold."""


def rules_for(features: list[str], control: bool = True) -> str:
    listed = "\n".join(f"      - {{name: {f}, threshold: 0.05}}" for f in features)
    return f"""
monitoring:
  data_drift:
    method: kolmogorov_smirnov
    features_to_monitor:
{listed}
    check_interval: 1h
{"" if control else NO_CONTROL}
  prediction_drift: {{method: population_stability_index, threshold: 0.2, check_interval: 6h}}
  model_performance:
    metrics:
      - {{name: f1_score, minimum: 0.30, window: 7d}}
      - {{name: precision, minimum: 0.30, window: 7d}}
  reference: {{first_predictions: 5000}}
"""


def monitor(features: list[str], control: bool = True) -> ModelMonitor:
    return ModelMonitor.from_rules(parse(rules_for(features, control), "bench").monitoring)


def chunks(
    seed: int,
    hours: float,
    rate: float,
    drift: str,
    drift_at: float | None,
    n_num: int,
    n_cat: int,
    labels: bool,
) -> Iterator[list[Prediction | GroundTruth]]:
    """The stream one hour at a time (bounded memory for 30-day runs)."""
    per_hour = int(3600 * rate)
    for h in range(int(hours)):
        at = None if drift_at is None else drift_at - 3600.0 * h
        yield (
            generate_predictions(
                seed * 100_003 + h,
                per_hour,
                rate,
                at if at is None or at < 3600 else None,
                drift,
                n_num,
                n_cat,
                600.0 if labels else None,
                3600.0 * h,
                first_id=h * per_hour,
            )
            if at is None or at >= 3600
            else generate_predictions(
                seed * 100_003 + h,
                per_hour,
                rate,
                at,
                drift,
                n_num,
                n_cat,
                600.0 if labels else None,
                3600.0 * h,
                first_id=h * per_hour,
            )
        )


def run(
    op: ModelMonitor, stream: Iterator[list[Prediction | GroundTruth]], batch: int = 2000
) -> tuple[list[Anomaly], float, int]:
    state, found, busy, n = op.initial_state(), [], 0.0, 0
    for events in stream:
        for i in range(0, len(events), batch):
            part = events[i : i + batch]
            t0 = time.perf_counter()
            state, out = op.process(state, part, now=part[-1].ts)
            busy += time.perf_counter() - t0
            found += out
            n += sum(1 for e in part if type(e) is Prediction)
    return found, busy, n


def scipy_baseline(events: list[Prediction | GroundTruth], ref_n: int) -> float:
    """Seconds to recompute every hourly check in batch with scipy on full windows."""
    t0 = time.perf_counter()
    preds = [e for e in events if type(e) is Prediction]
    ref, rest = preds[:ref_n], preds[ref_n:]
    reference = {f: [p.features[f] for p in ref] for f in NUMERIC + CATEGORICAL}
    hour = np.floor(np.array([p.ts for p in rest]) / 3600.0)
    for h in np.unique(hour):
        window = [p for p, k in zip(rest, hour, strict=True) if k == h]
        for f in NUMERIC:
            stats.ks_2samp([p.features[f] for p in window], reference[f])
        for f in CATEGORICAL:
            cats = sorted(set(reference[f]) | {p.features[f] for p in window})
            w = [sum(1 for p in window if p.features[f] == c) for c in cats]
            r = [reference[f].count(c) for c in cats]
            stats.chi2_contingency(np.array([r, w]), correction=False)
    return time.perf_counter() - t0


def throughput(quick: bool) -> None:
    hours, rate = (1, 30.0) if quick else (3, 30.0)
    events = [e for c in chunks(1, hours, rate, "none", None, 10, 10, True) for e in c]
    op = monitor(NUMERIC + CATEGORICAL)
    base, cand = [], []
    for _ in range(3 if quick else 5):
        base.append(scipy_baseline(events, 5000))
        _, busy, n = run(op, iter([events]))
        cand.append(busy)
    b, c = statistics.median(base), statistics.median(cand)
    print(
        f"throughput: {platform.machine()} py{platform.python_version()} predictions={n} "
        f"features=20 (10 numeric, 10 categorical), 1 core"
    )
    print(f"  baseline scipy batch recompute {b:.2f} s = {n / b:,.0f} predictions/s")
    print(
        f"  candidate ModelMonitor        {c:.2f} s = {n / c:,.0f} predictions/s  "
        f"ratio {c / b:.2f}x"
    )


def detection(quick: bool) -> None:
    rng = np.random.default_rng(11)
    print("detection delay (user thresholds: p<0.05 per 1h check, PSI>0.2 per 6h), rate 1/s:")
    kinds = {
        "mean_shift": "data_drift",
        "variance": "data_drift",
        "new_category": "data_drift",
        "label_shift": "any",
    }
    for drift, want in kinds.items():
        delays = []
        for rep in range(2 if quick else 5):
            at = 86400.0 + float(rng.uniform(0, 3600 * 6))
            found, _, _ = run(
                monitor(USER_FEATURES), chunks(rep + 7, 48, 1.0, drift, at, 1, 1, True)
            )
            hits = [a.ts for a in found if a.ts > at and (want == "any" or a.kind.value == want)]
            early = [a for a in found if a.ts <= at and a.kind.value != "performance"]
            delays.append((min(hits) - at) / 3600.0 if hits else float("inf"))
            if early:
                print(f"    note: {len(early)} anomalies before injection in rep {rep}")
        worst = max(delays)
        print(
            f"  {drift:13s} delays (check intervals) {[round(d, 2) for d in delays]} "
            f"worst {worst:.2f} {'OK' if worst <= 2 else 'MISSED TARGET'}"
        )


def false_alarms(quick: bool) -> None:
    """Both configs (the user's 2 features, 20 features), with and without alarm control."""
    days = 10 if quick else 30
    print("false data-drift alarms on stationary streams, rate 0.2/s, hourly checks at p<0.05:")
    for features, n_num, n_cat, reps in (
        (USER_FEATURES, 1, 1, 1 if quick else 3),
        (NUMERIC + CATEGORICAL, 10, 10, 1),
    ):
        months = len(features) * days * reps / 30.0
        counts = {}
        for control in (False, True):
            alarms = 0
            for rep in range(reps):
                stream = chunks(100 + rep, 24 * days, 0.2, "none", None, n_num, n_cat, False)
                found, _, _ = run(monitor(features, control), stream)
                alarms += sum(1 for a in found if a.kind.value == "data_drift")
            counts[control] = alarms
        print(f"  {len(features)} features, {days * reps} days ({months:.0f} feature-30-days):")
        print(
            f"    baseline no alarm control (no correction, level = p threshold): "
            f"{counts[False]} = {counts[False] / months:.2f} per feature per 30 days"
        )
        print(
            f"    candidate alarm control (holm, ert 180d, persistence):         "
            f"{counts[True]} = {counts[True] / months:.3f} per feature per 30 days"
        )
    raw = sum(raw_checks(rep, days) for rep in range(1 if quick else 3))
    print(
        f"  reference: scipy p<0.05 checks on full windows (2 features): "
        f"{raw / (2 * days * (1 if quick else 3) / 30.0):.1f} per feature per 30 days"
    )


def raw_checks(rep: int, days: int) -> int:
    """Hourly KS/chi-square at p < 0.05 on full windows, no correction: what operators mute."""
    stream = chunks(100 + rep, 24 * days, 0.2, "none", None, 1, 1, False)
    reference: dict[str, list[object]] | None = None
    count = 0
    for events in stream:
        cols = {f: [e.features[f] for e in events] for f in USER_FEATURES}
        if reference is None:
            reference = cols
            continue
        count += stats.ks_2samp(cols["amount"], reference["amount"]).pvalue < 0.05
        cats = sorted(set(reference["merchant"]) | set(cols["merchant"]))
        table = [
            [reference["merchant"].count(c) for c in cats],
            [cols["merchant"].count(c) for c in cats],
        ]
        count += stats.chi2_contingency(np.array(table), correction=False).pvalue < 0.05
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default="../shared/datasets", help="unused (synthetic)")
    parser.add_argument("--part", choices=("all", "stream", "labels"), default="all")
    args = parser.parse_args()
    if args.part in ("all", "stream"):
        throughput(args.quick)
        detection(args.quick)
        false_alarms(args.quick)
    if args.part in ("all", "labels"):
        labels_benchmark(args.quick)


if __name__ == "__main__":
    main()
