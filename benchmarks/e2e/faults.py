"""Fault plans: where a fault starts, how it spreads to callers, how strong it is over time.

A fault has a root (a service or a host), a start and an end, and an onset delay and hop count
for every node it reaches: the root at 0 (its own services for a host), then callers one hop up
after 30-150 s each, some callers unaffected. ``strength(node, t)`` is the fraction of the
root's symptom a node shows at ``t``: 0 before its onset, a ramp up, attenuated per hop
(amplified in a retry storm), on/off when the fault flaps, and a short recovery tail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from benchmarks.e2e.topology import Graph

MODES = (
    "ordinary",
    "retry_storm",
    "unobserved_root",
    "two_roots",
    "innocent_deploy",
    "host_failure",
    "flapping",
)
HARD_MODES = MODES[1:]

_ROOT_LOGS = (
    "Connection refused to {dep}:5432 after {ms} ms (attempt {n})",
    "java.lang.OutOfMemoryError: Java heap space in worker pool-{n}",
    "Deadline exceeded calling {dep}.Get after {ms} ms",
    "Failed to acquire connection from pool {dep}-pool within {ms} ms",
    "panic: runtime error: index out of range [{n}] with length {n}",
    "Too many open files while accepting connection on :{port}",
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault and the nodes it reaches."""

    kind: str
    root: str
    start: float
    end: float
    onset: dict[str, float]
    """Node -> seconds after ``start`` at which it shows symptoms."""
    hops: dict[str, int]
    latency: float
    """Latency multiplier minus one at full strength on the root."""
    errors: float
    """Error ratio added at full strength on the root."""
    ramp_s: float
    attenuation: float
    """Share of the symptom passed one hop up (above 1 in a retry storm)."""
    root_logs: str | None
    flap_s: float = 0.0
    observed: bool = True
    deploy_at: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def strength(self, node: str, t: float) -> float:
        """Fraction of the root's symptom ``node`` shows at ``t`` (0 when unaffected)."""
        delay = self.onset.get(node)
        if delay is None:
            return 0.0
        since = t - self.start - delay
        if since < 0.0 or t > self.end + 240.0:
            return 0.0
        level = min(1.0, (since + 1.0) / self.ramp_s)
        if t > self.end:
            level *= max(0.0, 1.0 - (t - self.end) / 240.0)
        if self.flap_s and int(since // self.flap_s) % 2 == 1:
            level *= 0.15
        return level * self.attenuation ** self.hops[node]

    def affected(self) -> set[str]:
        return set(self.onset)


def plan_faults(
    rng: random.Random, graph: Graph, mode: str, window: tuple[float, float]
) -> list[Fault]:
    """The faults of one stream in ``mode``, the first starting inside ``window``."""
    start = rng.uniform(*window)
    if mode == "host_failure":
        return [_host_fault(rng, graph, start)]
    if mode == "two_roots":
        first = _service_fault(rng, graph, mode, start, set())
        second_start = start + rng.uniform(120.0, 900.0)
        return [first, _service_fault(rng, graph, mode, second_start, first.affected())]
    first = _service_fault(rng, graph, mode, start, set())
    if mode == "ordinary" and rng.random() < 0.3 and first.end + 8100.0 < window[1] + 5400.0:
        later = first.end + rng.uniform(1800.0, 3600.0)
        return [first, _service_fault(rng, graph, mode, later, first.affected())]
    return [first]


def _service_fault(
    rng: random.Random, graph: Graph, mode: str, start: float, avoid: set[str]
) -> Fault:
    need = 2 if mode == "unobserved_root" else 1
    pool = [
        s
        for s in graph.services
        if graph.layer[s] >= (2 if mode == "unobserved_root" else 1)
        and len(graph.callers(s)) >= need
        and s not in avoid
        and not avoid.intersection(graph.callers(s))
    ]
    pool = pool or [s for s in graph.services if graph.callers(s) and s not in avoid]
    root = rng.choice(sorted(pool))
    onset, hops = _spread(rng, graph, {root: 0.0}, {root: 0})
    retry = mode == "retry_storm"
    deploy = mode == "ordinary" and rng.random() < 0.5
    return Fault(
        kind=mode,
        root=root,
        start=start,
        end=start + rng.uniform(20.0, 75.0) * 60.0,
        onset=onset,
        hops=hops,
        latency=rng.uniform(0.6, 1.5) if retry else rng.uniform(1.5, 8.0),
        errors=rng.uniform(0.005, 0.02) if retry else rng.uniform(0.02, 0.2),
        ramp_s=rng.choice([60.0, 120.0, 600.0]),
        attenuation=rng.uniform(1.4, 2.2) if retry else rng.uniform(0.35, 0.8),
        root_logs=None if rng.random() < 0.3 else rng.choice(_ROOT_LOGS),
        flap_s=rng.uniform(120.0, 300.0) if mode == "flapping" else 0.0,
        observed=mode != "unobserved_root",
        deploy_at=start - rng.uniform(60.0, 300.0) if deploy else None,
    )


def _host_fault(rng: random.Random, graph: Graph, start: float) -> Fault:
    host = rng.choice([h for h in graph.hosts if graph.on_host(h)])
    first = {s: rng.uniform(0.0, 60.0) for s in graph.on_host(host)}
    onset, hops = _spread(rng, graph, {host: 0.0, **first}, {host: 0, **dict.fromkeys(first, 0)})
    return Fault(
        kind="host_failure",
        root=host,
        start=start,
        end=start + rng.uniform(20.0, 60.0) * 60.0,
        onset=onset,
        hops=hops,
        latency=rng.uniform(1.5, 5.0),
        errors=rng.uniform(0.02, 0.15),
        ramp_s=rng.choice([60.0, 180.0]),
        attenuation=rng.uniform(0.35, 0.7),
        root_logs="I/O error on device sda{n}: {ms} ms stall",
    )


def _spread(
    rng: random.Random, graph: Graph, onset: dict[str, float], hops: dict[str, int]
) -> tuple[dict[str, float], dict[str, int]]:
    """Callers of affected nodes degrade one hop later (each with probability 0.8, depth 3)."""
    frontier = [n for n in onset if n in graph.layer]
    while frontier:
        nxt = []
        for node in frontier:
            for caller in graph.callers(node):
                if caller in onset or hops[node] >= 3 or rng.random() > 0.8:
                    continue
                onset[caller] = onset[node] + rng.uniform(30.0, 150.0)
                hops[caller] = hops[node] + 1
                nxt.append(caller)
        frontier = nxt
    return onset, hops


def season(t: float, phase: float, amplitude: float) -> float:
    return 1.0 + amplitude * math.sin(2.0 * math.pi * ((t % 86400.0) / 86400.0 + phase))
