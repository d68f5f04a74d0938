"""Fault injection into simulated z-scores; noise, flapping alerts, deploys; the builder."""

from __future__ import annotations

import numpy as np

from benchmarks.rca.scenarios import (
    KINDS,
    MINUTES,
    T0,
    Fault,
    Scenario,
    alert_events,
    anomaly_events,
    build_topology,
    callers_of,
    make_cells,
    metrics_of,
)
from engine.events import Alert, AlertStatus, Change, Severity, TopologyMode, TopologyUpdate

ROOT_EFFECTS = {
    "cpu_hog": {"cpu": 12.0, "latency": 6.0},
    "latency": {"latency": 10.0},
    "error_burst": {"errors": 11.0},
    "memory_leak": {"memory": 16.0, "latency": 5.5},
    "bad_deploy": {"errors": 9.0, "latency": 6.0},
    "host_failure": {"cpu": 12.0, "memory": 9.0},
}
PROPAGATES = {
    "cpu_hog": ("latency",),
    "latency": ("latency",),
    "error_burst": ("errors",),
    "memory_leak": ("latency",),
    "bad_deploy": ("errors", "latency"),
    "host_failure": ("latency", "errors"),
}


class Injector:
    """Adds fault effects to the z cells and records which fault owns each affected cell."""

    def __init__(self, z: dict, rng: np.random.Generator, callers: dict[str, list[str]]) -> None:
        self.z, self.rng, self.callers = z, rng, callers
        self.owner: dict[tuple[str, str, int], str] = {}

    def effect(
        self, key: tuple[str, str], start: int, size: float, tag: str, ramp: int = 0
    ) -> None:
        series = self.z.get(key)
        if series is None or start >= MINUTES:
            return
        end = min(MINUTES, start + int(self.rng.integers(25, 40)))
        shape = np.ones(end - start)
        if ramp:
            shape = np.minimum(np.arange(1, end - start + 1) / ramp, 1.0)
        series[start:end] += size * shape
        for i, s in enumerate(shape):
            if size * s >= 2.0:
                self.owner.setdefault((key[0], key[1], start + i), tag)

    def inject(self, fault: Fault, tag: str, retry_storm: bool, residents: list[str]) -> None:
        t0, kind = fault.start_min, fault.kind
        ramp = 12 if kind == "memory_leak" else 0
        for metric, size in ROOT_EFFECTS[kind].items():
            delay = 6 if kind == "memory_leak" and metric == "latency" else 0
            self.effect(
                (fault.root, metric),
                t0 + delay,
                size * self.rng.uniform(0.8, 1.2),
                tag,
                0 if delay else ramp,
            )
        fault.affected[fault.root] = t0
        seeds = [(fault.root, t0 + (6 if ramp else 0), 7.0)]
        if kind == "host_failure":
            seeds = []
            for svc in residents:
                onset = t0 + int(self.rng.integers(0, 2))
                for metric in PROPAGATES[kind]:
                    self.effect((svc, metric), onset, self.rng.uniform(6, 10), tag)
                fault.affected[svc] = onset
                seeds.append((svc, onset, 7.0))
        self.propagate(fault, tag, seeds, retry_storm)

    def propagate(self, fault: Fault, tag: str, seeds: list, retry_storm: bool) -> None:
        frontier, depth = seeds, 0
        while frontier and depth < 4:
            nxt = []
            for node, onset, size in frontier:
                for caller in sorted(self.callers.get(node, [])):
                    if caller in fault.affected or caller.startswith("host-"):
                        continue
                    if self.rng.random() > 0.85:
                        continue
                    factor = (
                        self.rng.uniform(1.4, 2.2) if retry_storm else self.rng.uniform(0.6, 0.9)
                    )
                    grown = min(size * factor, 25.0)
                    if grown < 4.5:
                        continue
                    start = onset + int(self.rng.integers(0 if retry_storm else 1, 2))
                    for metric in PROPAGATES[fault.kind]:
                        self.effect((caller, metric), start, grown, tag)
                    fault.affected[caller] = start
                    nxt.append((caller, start, grown))
            frontier, depth = nxt, depth + 1


def closure(root: str, callers: dict[str, list[str]], hops: int = 6) -> set[str]:
    seen, frontier = {root}, [root]
    for _ in range(hops):
        frontier = [c for n in frontier for c in callers.get(n, []) if c not in seen]
        seen.update(frontier)
    return seen


def generate(seed: int) -> Scenario:
    """One scenario, deterministic per ``seed``."""
    rng = np.random.default_rng(seed)
    n = round(float(np.exp(rng.uniform(np.log(10), np.log(300)))))
    nodes, edges = build_topology(rng, n)
    callers = callers_of(edges)
    residents: dict[str, list[str]] = {}
    host_of = {e.source: e.target for e in edges if e.kind == "runs_on"}
    for svc, host in host_of.items():
        residents.setdefault(host, []).append(svc)
    kind = KINDS[seed % len(KINDS)]
    hard = [
        h
        for h, p in [
            ("no_metrics", 0.18),
            ("retry_storm", 0.18),
            ("concurrent", 0.18),
            ("innocent_deploy", 0.25),
        ]
        if rng.random() < p
    ]
    if kind == "host_failure" and "retry_storm" in hard:
        hard.remove("retry_storm")
    z = make_cells(nodes, rng)
    inj = Injector(z, rng, callers)
    scn = Scenario(seed, n, nodes, edges, [], hard)
    faults = [_pick_fault(rng, kind, nodes, callers, residents, "no_metrics" in hard, set())]
    if "concurrent" in hard:
        used = _footprint(faults[0], callers, residents, host_of)
        other = _pick_fault(
            rng, KINDS[int(rng.integers(0, 6))], nodes, callers, residents, False, used, host_of
        )
        if other is not None:
            other.start_min = faults[0].start_min + int(rng.integers(0, 4))
            faults.append(other)
    for i, fault in enumerate(f for f in faults if f is not None):
        inj.inject(
            fault, f"fault:{i}", "retry_storm" in hard and i == 0, residents.get(fault.root, [])
        )
        scn.faults.append(fault)
    if "no_metrics" in hard:
        for metric in metrics_of(scn.faults[0].root):
            z.pop((scn.faults[0].root, metric), None)
    _noise_blips(inj, nodes, rng)
    scn.events.append(TopologyUpdate(T0, TopologyMode.REPLACE, tuple(nodes), tuple(edges)))
    anomaly_events(scn, z, inj.owner)
    alert_events(scn, z, inj.owner)
    _extra_alerts(scn, rng, nodes)
    _changes(scn, rng, nodes, callers)
    scn.events.sort(key=lambda e: (e.ts, type(e).__name__))
    return scn


def _pick_fault(rng, kind, nodes, callers, residents, silent, used, host_of=None):
    if kind == "host_failure":
        pool = [h for h, r in residents.items() if len(r) >= 2]
    else:
        need = 2 if silent else 1
        pool = [n.id for n in nodes if n.kind == "service" and len(callers.get(n.id, [])) >= need]
    if used:  # independent: no shared node or host within either fault's reach
        pool = [p for p in pool if not (_footprint_of(p, callers, residents, host_of) & used)]
    if not pool:
        return None
    root = str(pool[int(rng.integers(0, len(pool)))])
    return Fault(kind, root, int(rng.integers(40, 50)))


def _closure_of(root, callers, residents) -> set[str]:
    out = closure(root, callers)
    for svc in residents.get(root, []):
        out |= closure(svc, callers)
    return out


def _footprint(fault, callers, residents, host_of) -> set[str]:
    return _footprint_of(fault.root, callers, residents, host_of)


def _footprint_of(root, callers, residents, host_of) -> set[str]:
    nodes = _closure_of(root, callers, residents)
    return nodes | {host_of[n] for n in nodes if n in host_of}


def _noise_blips(inj: Injector, nodes, rng) -> None:
    """Short unrelated blips; each is one noise event, so its cells share one truth label."""
    for i in range(int(rng.integers(1, 4))):
        node = nodes[int(rng.integers(0, len(nodes)))].id
        metric = metrics_of(node)[int(rng.integers(0, len(metrics_of(node))))]
        start = int(rng.integers(5, MINUTES - 5))
        series = inj.z.get((node, metric))
        if series is not None:
            end = start + int(rng.integers(2, 4))
            series[start:end] += rng.uniform(5.5, 8.0)
            for minute in range(start, end):
                inj.owner.setdefault((node, metric, minute), f"noise:blip-{i}")


def _extra_alerts(scn: Scenario, rng, nodes) -> None:
    """Unrelated single alerts and one flapping alert (noise for grouping)."""
    for i in range(int(rng.integers(1, 4))):
        node = nodes[int(rng.integers(0, len(nodes)))].id
        ts = T0 + 60 * int(rng.integers(0, MINUTES))
        alert = Alert(
            ts,
            "DiskSpaceLow",
            AlertStatus.FIRING,
            Severity.WARNING,
            f"disk-{i}",
            {"service": node, "cluster": "eu-1", "alertname": "DiskSpaceLow"},
        )
        scn.events.append(alert)
        scn.truth[alert.id] = f"noise:{alert.id}"
        scn.raw_notifications += 1
    node = nodes[int(rng.integers(0, len(nodes)))].id
    start = int(rng.integers(0, MINUTES - 25))
    for k in range(10):
        status = AlertStatus.FIRING if k % 2 == 0 else AlertStatus.RESOLVED
        ts = T0 + 60 * (start + 2 * k) + 30
        scn.events.append(
            Alert(
                ts,
                "Flapping",
                status,
                Severity.WARNING,
                "flap-1",
                {"service": node, "cluster": "eu-1", "alertname": "Flapping"},
            )
        )
        scn.raw_notifications += status is AlertStatus.FIRING
    scn.truth["am-flap-1"] = "noise:am-flap-1"


def _changes(scn: Scenario, rng, nodes, callers) -> None:
    first = scn.faults[0]
    if first.kind == "bad_deploy":
        ts = T0 + 60 * (first.start_min - int(rng.integers(1, 5)))
        scn.events.append(Change(ts, "deploy", first.root, "2.14.0"))
    if "innocent_deploy" in scn.hard:
        victims = sorted(n for n in first.affected if n != first.root and not n.startswith("host"))
        target = victims[int(rng.integers(0, len(victims)))] if victims else None
        if target:
            ts = T0 + 60 * (first.start_min - int(rng.integers(1, 6)))
            scn.events.append(Change(ts, "deploy", target, "9.9.9"))
    services = [n.id for n in nodes if n.kind == "service"]
    ts = T0 + 60 * int(rng.integers(0, MINUTES))
    svc = services[int(rng.integers(0, len(services)))]
    scn.events.append(Change(ts, "config", svc, None, "routine config push"))
