"""Generated streams as scored cases, and the fixed seed split."""

from __future__ import annotations

import statistics

from benchmarks.e2e.faults import HARD_MODES, Fault
from benchmarks.e2e.generate import CPU, ERRORS, LATENCY, Knobs, Scenario, generate
from benchmarks.e2e.truth import Case, TrueFault

TUNED_ON = range(100, 150)
"""Seeds looked at while changing the engine."""
HELD_OUT = range(9100, 9150)
"""Seeds only ever measured, never looked at while tuning."""


def plan(seeds: range, ordinary: int, per_hard_mode: int) -> list[tuple[int, str]]:
    """(seed, mode) pairs: ``ordinary`` ordinary streams, then ``per_hard_mode`` of each hard
    mode, seeds taken in order from ``seeds``."""
    modes = ["ordinary"] * ordinary + [m for m in HARD_MODES for _ in range(per_hard_mode)]
    if len(modes) > len(seeds):
        raise ValueError(f"{len(modes)} streams but only {len(seeds)} seeds in {seeds}")
    return list(zip(seeds, modes, strict=False))


def generated_case(seed: int, mode: str, knobs: Knobs | None = None) -> Case:
    scn = generate(seed, mode, knobs)
    return Case(
        name=f"{mode}-{seed}",
        mode=mode,
        start=scn.start,
        end=scn.end,
        faults=[_true_fault(scn, f) for f in scn.faults],
        series=scn.series,
        topology=scn.graph.topology(),
        records=scn.records,
    )


def _true_fault(scn: Scenario, fault: Fault) -> TrueFault:
    return TrueFault(
        root=fault.root,
        start=fault.start,
        end=fault.end,
        nodes=frozenset(fault.onset),
        kind=fault.kind,
        signal=_signal(scn, fault),
    )


def _signal(scn: Scenario, fault: Fault) -> tuple[str, str] | None:
    """The root's own most-shifted series; for an unobserved root its nearest caller's."""
    if fault.root in scn.graph.hosts:
        return (fault.root, CPU)
    node = fault.root
    if not fault.observed:
        near = sorted((h, n) for n, h in fault.hops.items() if h > 0)
        if not near:
            return None
        node = near[0][1]
    shifts = {m: _shift(scn.series.get((node, m), []), fault) for m in (ERRORS, LATENCY)}
    metric = max(shifts, key=lambda m: shifts[m])
    return (node, metric) if shifts[metric] > 0.0 else None


def _shift(values: list[tuple[float, float]], fault: Fault) -> float:
    """How far the median during the fault sits from the hour before, in robust sigmas."""
    before = [v for t, v in values if fault.start - 3600.0 <= t < fault.start]
    during = [v for t, v in values if fault.start <= t <= fault.end]
    if len(before) < 10 or not during:
        return 0.0
    med = statistics.median(before)
    mad = statistics.median(abs(v - med) for v in before) * 1.4826 or 1e-9
    return abs(statistics.median(during) - med) / mad
