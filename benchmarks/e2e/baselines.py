"""Simple baselines computed in the same run from the same raw inputs.

* ``max_z``: knows the true fault time; ranks every node by the largest robust z-score
  (|x - median| / (1.4826 MAD)) any of its metrics reaches in the 5 minutes after the fault
  starts, against the hour before it.
* ``alertmanager_groups``: Alertmanager's grouping of the same alerts: one group per
  (alertname, cluster) that lives while any of its alerts fires (plus ``group_interval``).
"""

from __future__ import annotations

import statistics

from benchmarks.e2e.truth import AlertEpisode, Case, TrueFault

GROUP_INTERVAL_S = 300.0


def max_z(case: Case, fault: TrueFault, after_s: float = 300.0) -> list[str]:
    best: dict[str, float] = {}
    for (node, _metric), values in case.series.items():
        before = [v for t, v in values if fault.start - 3600.0 <= t < fault.start]
        now = [v for t, v in values if fault.start <= t <= fault.start + after_s]
        if len(before) < 10 or not now:
            continue
        med = statistics.median(before)
        mad = statistics.median(abs(v - med) for v in before) * 1.4826 or 1e-9
        z = max(abs(v - med) / mad for v in now)
        best[node] = max(best.get(node, 0.0), z)
    return sorted(best, key=lambda n: -best[n])[:5]


def alertmanager_groups(episodes: list[AlertEpisode]) -> dict[AlertEpisode, str]:
    """Episode -> group id: (alertname, cluster), a new group after the last one emptied."""
    open_until: dict[tuple[str, str], float] = {}
    serial: dict[tuple[str, str], int] = {}
    out: dict[AlertEpisode, str] = {}
    for ep in sorted(episodes, key=lambda e: (e.starts, e.id)):
        key = (ep.name, ep.cluster)
        if ep.starts > open_until.get(key, float("-inf")):
            serial[key] = serial.get(key, 0) + 1
        open_until[key] = max(open_until.get(key, float("-inf")), ep.ends + GROUP_INTERVAL_S)
        out[ep] = f"{ep.name}/{ep.cluster}/{serial[key]}"
    return out
