"""python -m benchmarks.rca [--quick] [--scenarios N]: correlation and RCA accuracy vs baselines.

Scenarios come from benchmarks.rca.faults.generate(seed) (simulated detector z-scores, not raw
metrics; see benchmarks/rca/scenarios.py). Vigil's Correlator + CauseRanker run on each
scenario's anomalies, alerts, changes and topology; baselines run in the same process:
Alertmanager-style grouping (alertname, cluster; 5 min window) and "first node to alert" /
"maximum z-score" ranking over the same incident members.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from benchmarks.rca.evaluate import (
    pair_scores,
    rank_positions,
    run_alertmanager,
    run_vigil,
)
from benchmarks.rca.faults import generate
from benchmarks.rca.scenarios import KINDS
from benchmarks.rca.timing import time_ranking
from engine.correlate.grouping import Correlator
from engine.rank.causes import CauseRanker

METHODS = ("vigil", "vigil_hand", "max_z", "first_to_alert")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rca")
    parser.add_argument("--scenarios", type=int, default=240)
    parser.add_argument("--quick", action="store_true", help="60 scenarios")
    parser.add_argument("--seed", type=int, default=1000, help="first scenario seed")
    args = parser.parse_args()
    n = 60 if args.quick else args.scenarios
    op = Correlator()
    rankers = {"vigil": CauseRanker(), "vigil_hand": CauseRanker(weights="hand")}
    rows, vigil_g, am_g, vigil_alerts, vigil_legacy = [], [], [], [], []
    raw = notes_vigil = notes_am = episodes = 0
    started = time.perf_counter()
    for seed in range(args.seed, args.seed + n):
        scn = generate(seed)
        grouping, latest = run_vigil(scn, op)
        am = run_alertmanager(scn)
        rows.extend(rank_positions(scn, grouping, latest, rankers))
        vigil_g.append(pair_scores(scn.truth, grouping.predicted))
        vigil_legacy.append(pair_scores(per_member_noise(scn.truth), grouping.predicted))
        alert_ids = {m: p for m, p in grouping.predicted.items() if m.startswith("am-")}
        vigil_alerts.append(pair_scores(scn.truth, alert_ids))
        am_g.append(pair_scores(scn.truth, am.predicted))
        episodes += scn.anomaly_episodes
        raw, notes_vigil, notes_am = (
            raw + scn.raw_notifications,
            notes_vigil + grouping.notifications,
            notes_am + am.notifications,
        )
    elapsed = time.perf_counter() - started
    print(
        f"{platform.machine()} py{platform.python_version()}  scenarios={n} "
        f"(seeds {args.seed}..{args.seed + n - 1})  faults={len(rows)}  {elapsed:.1f} s"
    )
    print_ranking(rows)
    print_grouping(vigil_g, vigil_alerts, vigil_legacy, am_g, raw, notes_vigil, notes_am)
    total = raw + episodes
    print(
        f"notifications incl. Vigil's own anomalies (firing alerts + anomaly episodes = {total}):"
        f" vigil incidents opened {notes_vigil} ({1 - notes_vigil / total:.1%} fewer)"
    )
    print_paging(rows)
    print_timing()


def print_paging(rows: list[dict]) -> None:
    delays = [r["page_delay_s"] for r in rows if r["page_delay_s"] is not None]
    median = statistics.median(delays) / 60 if delays else float("nan")
    print(
        f"faults whose incident was opened (paged): {len(delays)} of {len(rows)}; "
        f"fault start -> page median {median:.1f} min, max {max(delays, default=0) / 60:.1f} min"
    )


def _ac(rows: list[dict], method: str, k: int) -> float:
    return sum(1 for r in rows if r[method] is not None and r[method] <= k) / max(len(rows), 1)


def _avg5(rows: list[dict], method: str) -> float:
    return sum(_ac(rows, method, k) for k in range(1, 6)) / 5


def print_ranking(rows: list[dict]) -> None:
    print(
        "\n== Root-cause ranking (true root's position in the incident holding most of its "
        "members; last revision) =="
    )
    print(f"{'subset':<22}{'n':>5}  " + "  ".join(f"{m:>26}" for m in METHODS))
    print(f"{'':<22}{'':>5}  " + "  ".join(f"{'AC@1  AC@3  Avg@5':>26}" for _ in METHODS))
    subsets: dict[str, list[dict]] = {
        "all": rows,
        "hard": [r for r in rows if r["hard"]],
        "not hard": [r for r in rows if not r["hard"]],
    }
    for kind in KINDS:
        subsets[f"kind={kind}"] = [r for r in rows if r["kind"] == kind]
    flags = sorted({f for r in rows for f in r["flags"]})
    for flag in flags:
        subsets[f"hard={flag}"] = [r for r in rows if flag in r["flags"]]
    for name, sub in subsets.items():
        cells = "  ".join(
            f"{_ac(sub, m, 1):>10.3f}{_ac(sub, m, 3):>6.3f}{_avg5(sub, m):>7.3f}   "
            for m in METHODS
        )
        print(f"{name:<22}{len(sub):>5}  {cells}")
    worst = [r for r in rows if r["vigil"] != 1][:12]
    print(
        "misses (seed, kind, flags, positions by " + "/".join(METHODS) + "):",
        [(r["seed"], r["kind"], r["flags"], *(r[m] for m in METHODS)) for r in worst],
    )


def per_member_noise(truth: dict[str, str]) -> dict[str, str]:
    """The earlier labelling: every member of a noise blip its own noise event."""
    return {m: f"noise:{m}" if t.startswith("noise:blip-") else t for m, t in truth.items()}


def print_grouping(vigil, vigil_alerts, vigil_legacy, am, raw, notes_vigil, notes_am) -> None:
    def mean(rows, key):
        vals = [r[key] for r in rows if r["n_true"] or key != "groups"]
        return statistics.fmean(vals) if vals else float("nan")

    print("\n== Correlation (means over scenarios) ==")
    print(f"{'method':<40}{'groups/incident':>16}{'purity':>8}{'pair P':>8}{'pair R':>8}{'F1':>7}")
    for name, rows in [
        ("vigil (anomalies + alerts)", vigil),
        ("vigil (alerts only)", vigil_alerts),
        ("vigil, old labels (1 event per anomaly)", vigil_legacy),
        ("alertmanager (alertname, cluster, 5m)", am),
    ]:
        print(
            f"{name:<40}{mean(rows, 'groups'):>16.2f}{mean(rows, 'purity'):>8.3f}"
            f"{mean(rows, 'precision'):>8.3f}{mean(rows, 'recall'):>8.3f}{mean(rows, 'f1'):>7.3f}"
        )
    print(
        f"notifications: raw firing alerts {raw}, alertmanager groups {notes_am} "
        f"({1 - notes_am / raw:.1%} fewer), vigil incidents opened {notes_vigil} "
        f"({1 - notes_vigil / raw:.1%} fewer)"
    )


def print_timing() -> None:
    base, cand, n_nodes, n_anomalous = time_ranking()
    b, c = statistics.median(base), statistics.median(cand)
    print(f"\n== Ranking time, {n_nodes}-node topology, {n_anomalous} anomalous nodes ==")
    print(
        f"baseline max-z {b * 1e3:.1f} ms  vigil CauseRanker {c * 1e3:.1f} ms  "
        f"ratio {c / b:.1f}x  (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
