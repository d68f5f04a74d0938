"""The Nezha conversion (benchmarks/e2e/real.py) on a tiny folder of the same layout."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.e2e.real import DAYS, load_cases

_POD_HEADER = (
    "Time,TimeStamp,PodName,CpuUsageRate(%),MemoryUsageRate(%),NetworkReceiveBytes,"
    "NetworkTransmitBytes,PodClientLatencyP90(s),PodClientLatencyP99(s),PodServerLatencyP90(s),"
    "PodServerLatencyP99(s),PodWorkload(Ops),PodSuccessRate(%),NodeCpuUsageRate(%),"
    "NodeMemoryUsageRate(%)"
)


def _clock(day: str, minute: int) -> str:
    return f"{day} 10:{minute:02d}:19.5 +0000 UTC m=+0.1"


def _write_day(base: Path, day: str) -> None:
    metric = base / "rca_data" / day / "metric"
    metric.mkdir(parents=True)
    (metric / "dependency.csv").write_text(
        "Source,Target,Weight\nfrontend,cartservice,1\ncartservice,10.0.0.2,1\n"
        "frontend,10.0.0.1,1\n"
    )
    pods = {"frontend": "frontend-579b9bff58-t2dbm", "cartservice": "cartservice-579f59597d-wc2lz"}
    for pod in pods.values():
        rows = [_POD_HEADER] + [
            f"{_clock(day, m)},0,{pod},5,20,1,1,0.01,0.02,0.01,0.02,10,100,30,40" for m in range(3)
        ]
        (metric / f"{pod}_metric.csv").write_text("\n".join(rows) + "\n")
    edges = ["time,timestamp,frontend_cartservice"]
    edges += [f"{_clock(day, m)},0,{0.003 if m < 2 else 0.25}" for m in range(3)]
    (metric / "source_50.csv").write_text("\n".join(edges) + "\n")
    front = [
        "Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s),LatencyP90(s),"
        "LatencyP95(s),LatencyP99(s)"
    ]
    front += [
        f"{_clock(day, m)},0,Frontend,{100 if m < 2 else 50},0.1,0.2,NaN,0.4" for m in range(3)
    ]
    (metric / "front_service.csv").write_text("\n".join(front) + "\n")
    fault = {"inject_timestamp": "0", "inject_pod": pods["cartservice"], "inject_type": "x"}
    (base / "rca_data" / day / f"{day}-fault_list.json").write_text(json.dumps({"10": [fault]}))


def test_call_edge_latency_lands_on_the_callee_with_its_caller(tmp_path: Path) -> None:
    for day in DAYS:
        _write_day(tmp_path, day)
    [case] = load_cases(tmp_path)
    calls = [r for r in case.records["metrics"] if r["name"] == "call_latency_p50_seconds"]
    assert {(r["labels"]["service"], r["labels"]["caller"]) for r in calls} == {
        ("cartservice", "frontend")
    }
    assert max(r["value"] for r in calls) == 0.25
    assert [
        v for _, v in case.series[("cartservice", "call_latency_p50_seconds{caller=frontend}")]
    ][:3] == [0.003, 0.003, 0.25]
    entry = [r for r in case.records["metrics"] if r["name"].startswith("entry_")]
    assert {r["labels"]["service"] for r in entry} == {"frontend"}
    assert {r["name"] for r in entry} == {
        "entry_success_rate_percent",
        "entry_latency_p90_seconds",
        "entry_latency_p99_seconds",
    }
