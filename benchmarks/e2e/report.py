"""Aggregate the scores of a split and print them next to the baselines."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from benchmarks.e2e.baselines import alertmanager_groups, max_z
from benchmarks.e2e.faults import HARD_MODES
from benchmarks.e2e.run import CHAT, PAGER, Outputs
from benchmarks.e2e.score import CaseScore, FaultScore, member_tags, pair_scores, score_case
from benchmarks.e2e.truth import Case, alert_episodes


@dataclass(slots=True)
class Split:
    label: str
    scores: list[CaseScore] = field(default_factory=list)
    baseline_ranks: list[tuple[FaultScore, list[str]]] = field(default_factory=list)
    alert_pairs: list[dict[str, float]] = field(default_factory=list)
    am_pairs: list[dict[str, float]] = field(default_factory=list)
    elapsed_s: float = 0.0

    def add(self, case: Case, out: Outputs) -> None:
        score = score_case(case, out)
        self.scores.append(score)
        for fault, fs in zip(case.faults, score.faults, strict=True):
            self.baseline_ranks.append((fs, max_z(case, fault)))
        episodes = alert_episodes(case.records.get("alerts", []), case.end)
        if not episodes:
            return
        tags = member_tags(case, out)
        groups: dict[str, str] = {}
        for ep, group in alertmanager_groups(episodes).items():
            if ep.id not in groups or tags.get(ep.id, "").startswith("fault:"):
                groups[ep.id] = group
        vigil: dict[str, str] = {}
        for rec in out.incidents:
            for m in rec.get("alerts", []):
                if m in groups:
                    vigil.setdefault(m, rec["id"])
        alert_tags = {m: tags[m] for m in groups if m in tags}
        self.alert_pairs.append(pair_scores(alert_tags, vigil))
        self.am_pairs.append(pair_scores(alert_tags, groups))

    @property
    def faults(self) -> list[FaultScore]:
        return [f for s in self.scores for f in s.faults]


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _acc(faults: list[FaultScore], k: int) -> float:
    return _mean([f.hit(k) for f in faults])


def _base(split: Split, faults: list[FaultScore], k: int) -> float:
    ids = {id(f) for f in faults}
    return _mean([float(fs.root in r[:k]) for fs, r in split.baseline_ranks if id(fs) in ids])


def print_split(split: Split) -> None:
    faults = split.faults
    n_cases = len(split.scores)
    print(f"\n== {split.label}: {n_cases} streams, {len(faults)} faults, {split.elapsed_s:.0f} s")
    by_mode: dict[str, list[FaultScore]] = defaultdict(list)
    for f in faults:
        by_mode[f.mode].append(f)
    print(f"{'faults':<18}{'n':>4}  {'AC@1':>5} {'AC@3':>5} {'Avg@5':>5}   max-z: AC@1 AC@3")
    halves: dict[str, list[FaultScore]] = defaultdict(list)
    for f in faults:
        if "/" in f.mode:  # a real dataset's kind/half (benchmarks/e2e/real.py)
            halves[f.mode.split("/", 1)[1]].append(f)
    rows = [*sorted(by_mode.items()), *sorted(halves.items()), ("pooled", faults)]
    hard = [f for f in faults if f.mode in HARD_MODES]
    if hard and len(by_mode) > 1:
        rows.insert(-1, ("hard (all)", hard))
    for name, group in rows:
        print(
            f"{name:<18}{len(group):>4}  {_acc(group, 1):5.2f} {_acc(group, 3):5.2f} "
            f"{_mean([f.avg5() for f in group]):5.2f}          "
            f"{_base(split, group, 1):4.2f} {_base(split, group, 3):4.2f}"
        )
    _print_grouping(split, faults)
    _print_paging(split, faults)


def _print_grouping(split: Split, faults: list[FaultScore]) -> None:
    found = [f for f in faults if f.groups]
    pairs = [s.pairs for s in split.scores]
    print(
        f"grouping: missed faults {len(faults) - len(found)}/{len(faults)}; "
        f"groups per true incident {_mean([float(f.groups) for f in found]):.2f}; "
        f"purity {_mean([f.purity for f in found if f.purity is not None]):.2f}; "
        f"pairwise F1 {_mean([p['f1'] for p in pairs]):.2f} "
        f"(P {_mean([p['precision'] for p in pairs]):.2f} "
        f"R {_mean([p['recall'] for p in pairs]):.2f})"
    )
    if split.alert_pairs:
        v, a = split.alert_pairs, split.am_pairs
        print(
            f"  alerts only: vigil F1 {_mean([p['f1'] for p in v]):.2f} "
            f"groups {_mean([p['groups'] for p in v]):.2f} | "
            f"alertmanager (alertname, cluster) F1 {_mean([p['f1'] for p in a]):.2f} "
            f"groups {_mean([p['groups'] for p in a]):.2f}"
        )


def _print_paging(split: Split, faults: list[FaultScore]) -> None:
    days = sum(s.days for s in split.scores)
    noise = sum(s.noise_pages for s in split.scores)
    delays = [f.page_delay_s / 60.0 for f in faults if f.page_delay_s is not None]
    resolves = sum(f.resolves for f in faults)
    premature = sum(f.premature_resolves for f in faults)
    print(
        f"paging: pages per fault {_mean([float(f.pages) for f in faults]):.2f}; "
        f"paged {len(delays)}/{len(faults)}; median time to page "
        f"{statistics.median(delays) if delays else float('nan'):.1f} min; "
        f"noise pages per day {noise / days if days else float('nan'):.1f}"
    )
    print(
        f"resolve: premature {premature} of {resolves} resolved fault incidents "
        f"(root signal still outside its pre-incident band)"
    )
    _print_resolves(faults)
    found = [f for f in faults if f.groups]
    for receiver in (CHAT, PAGER):
        counts = [float(f.notes.get(receiver, 0)) for f in found]
        print(
            f"notifications per fault incident, {receiver}: mean {_mean(counts):.1f} "
            f"max {max(counts, default=0):.0f}"
        )
    print(
        f"top-cause changes per fault incident {_mean([float(f.top_changes) for f in found]):.1f}; "
        f"anomalies in the first 30 min (cold start) per stream "
        f"{_mean([float(s.early_anomalies) for s in split.scores]):.1f}; "
        f"anomalies per stream {_mean([float(s.anomalies) for s in split.scores]):.0f}; "
        f"incidents per stream {_mean([float(s.incidents) for s in split.scores]):.1f}"
    )


def _print_resolves(faults: list[FaultScore]) -> None:
    """How the fault incidents resolved: before the fault's end, how long after it, never."""
    found = [f for f in faults if f.groups]
    after = [f.resolve_after_end_s / 60.0 for f in found if f.resolve_after_end_s is not None]
    print(
        f"  of these, inside the band of the hour after the fault (back at its post-fault level) "
        f"{sum(f.drift_resolves for f in faults)}; "
        f"resolved before the fault's end {sum(1 for m in after if m < 0.0)}; first resolve "
        f"after the fault's end: median {statistics.median(after) if after else float('nan'):.1f}"
        f" min, max {max(after, default=float('nan')):.1f} min; "
        f"never resolved {len(found) - len(after)} of {len(found)}"
    )
