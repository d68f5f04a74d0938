"""Raw telemetry streams for the end-to-end benchmark (a replay folder per scenario).

``generate(seed, mode, knobs)`` builds one stream: a random topology of 18-54 services, 1-minute
metrics (p99 latency, error ratio, request rate per service; CPU and memory per host) with daily
seasonality, noise and harmless blips; logs (requests, steady background WARN/ERROR templates,
template churn, deploy lines); alerts from threshold rules sent the way Alertmanager sends them;
deploys, most of them innocent; and the faults of ``mode`` 2.5-4.5 h into a 6-8 h stream that
starts cold. Everything is seeded: the same arguments give the same records.

The generator knows nothing about the detector; its knobs (``Knobs``) are set wide on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from benchmarks.e2e.alerts import AlertRule, alert_records
from benchmarks.e2e.faults import Fault, plan_faults, season
from benchmarks.e2e.logs import BACKGROUND, CHURN, ServiceLogs, poisson
from benchmarks.e2e.topology import Graph, random_graph

LATENCY = "http_request_duration_p99_seconds"
ERRORS = "http_requests_error_ratio"
RATE = "http_requests_per_second"
CPU = "node_cpu_utilisation"
MEMORY = "node_memory_utilisation"
STREAM_START = 1_764_000_000.0


@dataclass(frozen=True, slots=True)
class Knobs:
    """Ranges each stream draws from (wide, and never tuned together with the detector)."""

    hours: tuple[float, float] = (6.0, 8.0)
    services: tuple[int, int] = (18, 54)
    fault_after_h: tuple[float, float] = (2.5, 4.5)
    """When the (first) fault starts, in hours after the stream's cold start."""
    noise: tuple[float, float] = (0.03, 0.15)
    """Log-normal sigma of metric noise."""
    background_errors: tuple[float, float] = (0.02, 1.0)
    """Per-minute rate of each steady background WARN/ERROR template."""
    blips_per_series_day: tuple[float, float] = (0.5, 4.0)
    churn_per_hour: tuple[float, float] = (0.5, 3.0)
    innocent_deploys: tuple[int, int] = (2, 6)


@dataclass(slots=True)
class Scenario:
    """One generated stream: wire records by file, the topology, the injected faults."""

    seed: int
    mode: str
    graph: Graph
    faults: list[Fault]
    start: float
    end: float
    records: dict[str, list[dict[str, Any]]]
    series: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    """(node, metric) -> [(ts, value)], for the baselines and the resolve check."""


@dataclass(slots=True)
class _Series:
    """A service's base levels, seasonality and noise."""

    level: dict[str, float]
    phase: float
    amplitude: float
    noise: float
    blips: list[tuple[float, float, str, float]] = field(default_factory=list)


def generate(seed: int, mode: str, knobs: Knobs | None = None) -> Scenario:
    knobs = knobs or Knobs()
    rng = random.Random(f"e2e:{seed}:{mode}")
    graph = random_graph(rng, rng.randint(*knobs.services))
    start = STREAM_START + rng.randrange(0, 1440) * 60.0
    end = start + round(rng.uniform(*knobs.hours) * 60.0) * 60.0
    latest = min(start + knobs.fault_after_h[1] * 3600.0, end - min(5400.0, 0.4 * (end - start)))
    window = (min(start + knobs.fault_after_h[0] * 3600.0, latest), latest)
    faults = plan_faults(rng, graph, mode, window)
    scn = Scenario(seed, mode, graph, faults, start, end, {})
    hidden = {f.root for f in faults if not f.observed}
    profiles = {s: _profile(rng, knobs, start, end) for s in graph.services}
    profiles.update({h: _profile(rng, knobs, start, end) for h in graph.hosts})
    logs = {s: _service_logs(rng, graph, s, knobs) for s in graph.services}
    changes = _changes(rng, graph, faults, knobs, mode, start, end)
    churn = _churn(rng, graph, knobs, start, end)
    metrics: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    restarts = {(c["service"], int(c["ts"] // 60)) for c in changes}
    for minute in range(int((end - start) // 60)):
        ts = start + 60.0 * minute
        for svc, level, text, rate in churn.get(minute, []):
            logs[svc].steady.append((level, text, rate))
        for change in (c for c in changes if int(c["ts"] // 60) == int(ts // 60)):
            lines += logs[change["service"]].deploy(rng, ts, change["version"])
        for svc in graph.services:
            if svc in hidden:
                continue
            values = _service_sample(rng, scn, svc, profiles[svc], ts, (svc, minute) in restarts)
            labels = {"service": svc, "host": graph.placement[svc], "cluster": graph.cluster}
            metrics += [_metric(ts, name, v, labels) for name, v in values.items()]
            for name, v in values.items():
                scn.series.setdefault((svc, name), []).append((ts, v))
            lines += logs[svc].minute(rng, ts, values[LATENCY])
            lines += _fault_lines(rng, scn, logs[svc], ts)
        for host in graph.hosts:
            values = _host_sample(rng, scn, host, profiles[host], ts)
            labels = {"host": host, "cluster": graph.cluster}
            metrics += [_metric(ts, name, v, labels) for name, v in values.items()]
            for name, v in values.items():
                scn.series.setdefault((host, name), []).append((ts, v))
    rules = _alert_rules(rng, scn, profiles, hidden)
    lines.sort(key=lambda r: r["ts"])
    scn.records = {
        "metrics": metrics,
        "logs": lines,
        "alerts": alert_records(rules, scn.series, graph.cluster),
        "changes": changes,
    }
    return scn


def _profile(rng: random.Random, knobs: Knobs, start: float, end: float) -> _Series:
    series = _Series(
        level={
            LATENCY: rng.uniform(0.03, 0.4),
            ERRORS: rng.uniform(0.0005, 0.01),
            RATE: rng.uniform(5.0, 500.0),
            CPU: rng.uniform(0.15, 0.5),
            MEMORY: rng.uniform(0.3, 0.7),
        },
        phase=rng.random(),
        amplitude=rng.uniform(0.1, 0.35),
        noise=rng.uniform(*knobs.noise),
    )
    days = (end - start) / 86400.0
    for _ in range(poisson(rng, rng.uniform(*knobs.blips_per_series_day) * days)):
        at = rng.uniform(start, end)
        what = rng.choice((LATENCY, ERRORS, RATE, CPU))
        series.blips.append((at, at + 60.0 * rng.randint(1, 3), what, rng.uniform(1.8, 4.0)))
    return series


def _sample(rng: random.Random, p: _Series, name: str, ts: float) -> float:
    value = p.level[name] * season(ts, p.phase, p.amplitude) * rng.lognormvariate(0.0, p.noise)
    for at, until, what, factor in p.blips:
        if what == name and at <= ts < until:
            value = value * factor if name != ERRORS else value + 0.01 * factor
    return value


def _service_sample(
    rng: random.Random, scn: Scenario, svc: str, p: _Series, ts: float, restart: bool
) -> dict[str, float]:
    latency, errors, rate = (_sample(rng, p, n, ts) for n in (LATENCY, ERRORS, RATE))
    if restart:
        latency *= 1.5
    for fault in scn.faults:
        st = fault.strength(svc, ts)
        if st:
            latency *= 1.0 + fault.latency * st
            errors += fault.errors * st
            if fault.kind == "retry_storm":
                rate *= 1.0 + 1.5 * min(st, 2.0)
    return {LATENCY: round(latency, 6), ERRORS: round(min(errors, 1.0), 6), RATE: round(rate, 3)}


def _host_sample(
    rng: random.Random, scn: Scenario, host: str, p: _Series, ts: float
) -> dict[str, float]:
    cpu, memory = _sample(rng, p, CPU, ts), _sample(rng, p, MEMORY, ts)
    for fault in scn.faults:
        st = fault.strength(host, ts)
        cpu, memory = cpu + 0.6 * st, memory + 0.25 * st
    return {CPU: round(min(cpu, 1.0), 4), MEMORY: round(min(memory, 1.0), 4)}


def _metric(ts: float, name: str, value: float, labels: dict[str, str]) -> dict[str, Any]:
    return {"ts": ts, "name": name, "value": value, "labels": labels}


def _service_logs(rng: random.Random, graph: Graph, svc: str, knobs: Knobs) -> ServiceLogs:
    picks = rng.sample(BACKGROUND, rng.randint(2, 5))
    return ServiceLogs(
        service=svc,
        labels={"service": svc, "host": graph.placement[svc], "cluster": graph.cluster},
        info_rate=rng.uniform(1.0, 4.0),
        steady=[(lvl, text, rng.uniform(*knobs.background_errors)) for lvl, text in picks],
        deps=graph.callees(svc),
    )


def _churn(
    rng: random.Random, graph: Graph, knobs: Knobs, start: float, end: float
) -> dict[int, list[tuple[str, str, str, float]]]:
    """Minute -> templates that start recurring then (service, level, text, rate)."""
    out: dict[int, list[tuple[str, str, str, float]]] = {}
    hours = (end - start) / 3600.0
    for _ in range(poisson(rng, rng.uniform(*knobs.churn_per_hour) * hours)):
        minute = rng.randrange(int((end - start) // 60))
        level, text = rng.choice(CHURN)
        item = (rng.choice(graph.services), level, text, rng.uniform(0.05, 1.0))
        out.setdefault(minute, []).append(item)
    return out


def _fault_lines(
    rng: random.Random, scn: Scenario, logs: ServiceLogs, ts: float
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    svc = logs.service
    for fault in scn.faults:
        st = fault.strength(svc, ts)
        if not st:
            continue
        own = fault.hops.get(svc) == 0 and fault.root_logs is not None
        if own and fault.root_logs is not None:
            n = poisson(rng, 15.0 * min(st, 1.0))
            out += [logs.line(rng, ts, "ERROR", fault.root_logs, 3.0) for _ in range(n)]
        elif st > 0.2:
            text = "upstream call to {dep} failed with status 503 after {ms} ms"
            n = poisson(rng, 6.0 * min(st, 1.0))
            out += [logs.line(rng, ts, "WARN", text, 1.0) for _ in range(n)]
    return out


def _changes(
    rng: random.Random,
    graph: Graph,
    faults: list[Fault],
    knobs: Knobs,
    mode: str,
    start: float,
    end: float,
) -> list[dict[str, Any]]:
    out = []

    def deploy(svc: str, ts: float) -> None:
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        out.append(
            {
                "ts": round(ts, 3),
                "kind": "deploy",
                "service": svc,
                "version": version,
                "description": f"rollout of {svc} {version}",
                "labels": {"cluster": graph.cluster, "host": graph.placement[svc]},
            }
        )

    busy = [(f.start - 1800.0, f.end + 600.0) for f in faults]
    for _ in range(rng.randint(*knobs.innocent_deploys)):
        ts = rng.uniform(start + 600.0, end - 600.0)
        if not any(a <= ts <= b for a, b in busy):
            deploy(rng.choice(graph.services), ts)
    for fault in faults:
        if fault.deploy_at is not None:
            deploy(fault.root, fault.deploy_at)
        if mode == "innocent_deploy":
            near = [s for s in graph.callers(fault.root) + graph.callees(fault.root)]
            deploy(rng.choice(near or list(graph.services)), fault.start - rng.uniform(60.0, 300.0))
    hidden = {f.root for f in faults if not f.observed}
    return sorted((c for c in out if c["service"] not in hidden), key=lambda c: c["ts"])


def _alert_rules(
    rng: random.Random, scn: Scenario, profiles: dict[str, _Series], hidden: set[str]
) -> list[AlertRule]:
    rules = []
    for svc in scn.graph.services:
        if svc in hidden:
            continue
        p = profiles[svc]
        if rng.random() < 0.7:
            thr = max(0.03, 8.0 * p.level[ERRORS])
            rules.append(AlertRule("HighErrorRate", svc, ERRORS, thr, 2, "critical"))
        if rng.random() < 0.5:
            thr = 3.0 * p.level[LATENCY] * (1.0 + p.amplitude)
            rules.append(AlertRule("HighLatencyP99", svc, LATENCY, thr, 3, "warning"))
    for host in scn.graph.hosts:
        rules.append(AlertRule("NodeCPUHigh", host, CPU, 0.9, 2, "critical"))
    if scn.mode == "flapping":
        for svc in rng.sample([s for s in scn.graph.services if s not in hidden], 2):
            values = scn.series[(svc, ERRORS)]
            thr = sorted(v for _, v in values)[int(0.9 * len(values))]
            rules.append(AlertRule("ErrorRateWarning", svc, ERRORS, thr, 1, "warning"))
    return rules
