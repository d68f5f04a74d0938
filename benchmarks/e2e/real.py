"""A real RCA dataset as replay folders: Nezha's OnlineBoutique recordings (FSE'23).

Source: the public repository IntelligentDDS/Nezha, folder ``rca_data/2022-08-22`` and
``rca_data/2022-08-23`` (``metric/*.csv`` and ``<date>-fault_list.json``): 10 services of
Google's Online Boutique on Kubernetes, 1-minute pod metrics (CPU, memory, network, client and
server latency percentiles, workload, success rate, and the pod's node CPU/memory), Istio's
client-side median duration per call edge (``source_50.csv``, kept on the callee with a
``caller`` label), the front end's success rate and latency as its clients see them
(``front_service.csv``), the call graph (``metric/dependency.csv``, service -> service and
service -> node IP), and 56 injected faults (CPU contention/consumption, network delay,
code-level exception/return) with the pod that was hit. See benchmarks/e2e/README.md for how
to get the files.

Both days form one stream in time order: day 1 starts cold with faults every ~8 minutes from
its second minute (scored as kind ``cold``), then 16 h of normal load; day 2's faults come
after that (kind ``warm``). Each fault is also in a fixed half, ``tuned-on`` or ``held-out``
(``half_of``), scored apart. Logs and traces are not used: the repository keeps them only around
the fault windows, which would give the answer away.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.e2e.truth import Case, Series, TrueFault

DAYS = ("2022-08-22", "2022-08-23")
FAULT_S = 300.0
"""How long a fault is taken to last (capped by the next injection)."""
_COLUMNS = {
    "CpuUsageRate(%)": "container_cpu_usage_percent",
    "MemoryUsageRate(%)": "container_memory_usage_percent",
    "NetworkReceiveBytes": "container_network_receive_bytes",
    "NetworkTransmitBytes": "container_network_transmit_bytes",
    "PodClientLatencyP90(s)": "client_latency_p90_seconds",
    "PodClientLatencyP99(s)": "client_latency_p99_seconds",
    "PodServerLatencyP90(s)": "server_latency_p90_seconds",
    "PodServerLatencyP99(s)": "server_latency_p99_seconds",
    "PodWorkload(Ops)": "workload_ops",
    "PodSuccessRate(%)": "success_rate_percent",
}
_NODE_COLUMNS = {
    "NodeCpuUsageRate(%)": "node_cpu_usage_percent",
    "NodeMemoryUsageRate(%)": "node_memory_usage_percent",
}
_ENTRY_COLUMNS = {
    "SuccessRate(%)": "entry_success_rate_percent",
    "LatencyP90(s)": "entry_latency_p90_seconds",
    "LatencyP99(s)": "entry_latency_p99_seconds",
}
CLUSTER = "online-boutique"
HALVES = ("tuned-on", "held-out")


def load_cases(folder: Path) -> list[Case]:
    base = folder / "rca_data" if (folder / "rca_data").is_dir() else folder
    missing = [d for d in DAYS if not (base / d / "metric" / "dependency.csv").is_file()]
    if missing:
        raise SystemExit(f"{folder}: no rca_data/{missing[0]}/metric (see the README)")
    hosts = _placement(base / DAYS[0] / "metric" / "dependency.csv")
    metrics: list[dict[str, Any]] = []
    series: Series = {}
    faults: list[tuple[float, str, str]] = []
    for i, day in enumerate(DAYS):
        reporter: dict[str, str] = {}  # host -> the one service whose file gives its metrics
        for path in sorted((base / day / "metric").glob("*_metric.csv")):
            svc = _service(path.name.removesuffix("_metric.csv"))
            reporter.setdefault(hosts.get(svc, ""), svc)
            metrics += _pod_metrics(path, hosts, series, reporter)
        metrics += _call_metrics(base / day / "metric" / "source_50.csv", hosts, series)
        metrics += _entry_metrics(base / day / "metric" / "front_service.csv", hosts, series)
        for items in json.loads((base / day / f"{day}-fault_list.json").read_text()).values():
            faults += [
                (float(f["inject_timestamp"]), _service(f["inject_pod"]), ("cold", "warm")[i])
                for f in items
            ]
    metrics.sort(key=lambda r: (r["ts"], r["name"]))
    faults.sort()
    services = sorted({s for s, _ in series})
    true = []
    for j, (start, root, kind) in enumerate(faults):
        nxt = faults[j + 1][0] - 1.0 if j + 1 < len(faults) else start + FAULT_S
        end = min(start + FAULT_S, nxt)
        kind = f"{kind}/{half_of(root, start)}"
        fault = TrueFault(root, start, end, frozenset(services), kind)
        true.append(TrueFault(root, start, end, fault.nodes, kind, _signal(series, fault)))
    return [
        Case(
            name="nezha-online-boutique",
            mode="real",
            start=metrics[0]["ts"],
            end=metrics[-1]["ts"],
            faults=true,
            series=series,
            topology=_topology(base / DAYS[0] / "metric" / "dependency.csv"),
            records={"metrics": metrics},
        )
    ]


def half_of(root: str, start: float) -> str:
    """The fixed split of a fault: ``tuned-on`` or ``held-out`` by a hash of its root and
    injection second (look at the first while changing the engine, only measure the second).
    """
    return HALVES[zlib.crc32(f"{root}@{int(start)}".encode()) % 2]


def _service(pod: str) -> str:
    """``cartservice-579f59597d-wc2lz`` -> ``cartservice``."""
    return re.sub(r"-[0-9a-f]{6,10}-[0-9a-z]{5}$", "", pod)


def _time(text: str) -> float:
    """``2022-08-22 03:51:19.607158889 +0000 UTC m=+0.1`` -> epoch seconds (whole seconds).

    The ``Time`` column is used: some files' ``TimeStamp`` column is off by 2e8 seconds."""
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def _placement(path: Path) -> dict[str, str]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return {r["Source"]: r["Target"] for r in rows if re.fullmatch(r"[\d.]+", r["Target"])}


def _topology(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    edges, nodes = [], {}
    for r in rows:
        host = re.fullmatch(r"[\d.]+", r["Target"]) is not None
        nodes[r["Source"]] = "service"
        nodes.setdefault(r["Target"], "host" if host else "service")
        kind = "runs_on" if host else "calls"
        edges.append({"from": r["Source"], "to": r["Target"], "kind": kind})
    return {"nodes": [{"id": n, "kind": k} for n, k in sorted(nodes.items())], "edges": edges}


def _pod_metrics(
    path: Path, hosts: dict[str, str], series: Series, reporter: dict[str, str]
) -> list[dict[str, Any]]:
    """A pod's metrics on its service; its node's metrics on the host, from one pod per host
    (every pod file repeats its node's figures)."""
    out = []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            svc = _service(row["PodName"])
            ts = _time(row["Time"])
            host = hosts.get(svc, "")
            labels = {"service": svc, "host": host, "cluster": CLUSTER}
            for column, name in _COLUMNS.items():
                out.append(_point(ts, name, row[column], labels, series, svc))
            if host and reporter.get(host) == svc:
                node_labels = {"host": host, "cluster": CLUSTER}
                for column, name in _NODE_COLUMNS.items():
                    out.append(_point(ts, name, row[column], node_labels, series, host))
    return [p for p in out if p is not None]


def _call_metrics(path: Path, hosts: dict[str, str], series: Series) -> list[dict[str, Any]]:
    """Istio's client-side median duration per call edge (``reporter="source"``, columns
    ``<caller>_<callee>``) on the callee: how slow the callee is as its callers see it (a
    network delay on a pod shows only here, not on the pod's own server-side latency)."""
    out = []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            ts = _time(row["time"])
            for column, text in row.items():
                if column in ("time", "timestamp") or "_" not in column:
                    continue
                caller, callee = column.split("_", 1)
                labels = {
                    "service": callee,
                    "caller": caller,
                    "host": hosts.get(callee, ""),
                    "cluster": CLUSTER,
                }
                key = f"call_latency_p50_seconds{{caller={caller}}}"
                out.append(
                    _point(ts, "call_latency_p50_seconds", text, labels, series, callee, key)
                )
    return [p for p in out if p is not None]


def _entry_metrics(path: Path, hosts: dict[str, str], series: Series) -> list[dict[str, Any]]:
    """The front end's success rate and latency as its clients see them (``front_service``)."""
    out = []
    labels = {"service": "frontend", "host": hosts.get("frontend", ""), "cluster": CLUSTER}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            ts = _time(row["Time"])
            for column, name in _ENTRY_COLUMNS.items():
                out.append(_point(ts, name, row[column], labels, series, "frontend"))
    return [p for p in out if p is not None]


def _point(
    ts: float,
    name: str,
    text: str,
    labels: dict[str, str],
    series: Series,
    node: str,
    key: str = "",
) -> dict[str, Any] | None:
    """One metric record; its values also kept in ``series`` under (node, key or name)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):  # some latency columns hold "NaN" (no requests that minute)
        return None
    series.setdefault((node, key or name), []).append((ts, value))
    return {"ts": ts, "name": name, "value": value, "labels": labels}


def _signal(series: Series, fault: TrueFault) -> tuple[str, str] | None:
    """The root's series that moved most during the fault (robust z of the median)."""
    best, key = 0.0, None
    for (node, name), values in series.items():
        if node != fault.root:
            continue
        before = [v for t, v in values if fault.start - 3600.0 <= t < fault.start]
        during = [v for t, v in values if fault.start <= t <= fault.end]
        if len(before) < 10 or not during:
            continue
        med = statistics.median(before)
        mad = statistics.median(abs(v - med) for v in before) * 1.4826 or 1e-9
        shift = abs(statistics.median(during) - med) / mad
        if shift > best:
            best, key = shift, (node, name)
    return key
