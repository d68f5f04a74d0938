"""End to end: Kubernetes and Prometheus labels name topology nodes (issue 17).

Alerts and metrics as kube-prometheus sends them carry ``namespace``, ``deployment``, ``pod``,
``container``, ``instance``, not ``service``. Through ``vigil replay`` with the default
``topology.node_labels`` they land on the topology's nodes: the pod's workload, the
deployment, the scrape target's host. On main they named no node: "no ranked cause" noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors.cli import main
from engine.testing import T0

M = 60.0
POD = "payments-7d9c8b6f5d-x2k9p"


def _rfc3339(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook(labels: dict[str, str], starts: float, ends: float | None) -> dict[str, Any]:
    status = "firing" if ends is None else "resolved"
    return {
        "version": "4", "status": status, "receiver": "vigil",
        "alerts": [{
            "status": status, "labels": labels, "annotations": {},
            "startsAt": _rfc3339(starts),
            "endsAt": "0001-01-01T00:00:00Z" if ends is None else _rfc3339(ends),
        }],
    }


def _alert_lines(labels: dict[str, str], starts: float, ends: float) -> list[dict[str, Any]]:
    """Every notification, each with the time it was received (``ts``)."""
    sends = [{**_webhook(labels, starts, None), "ts": t}
             for t in (starts + i * M for i in range(int((ends - starts) // M)))]
    return [*sends, {**_webhook(labels, starts, ends), "ts": ends}]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_kubernetes_labels_name_the_topology_nodes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    topology = {"nodes": [{"id": "checkout"}, {"id": "payments"},
                          {"id": "10.0.0.5", "kind": "host"}],
                "edges": [{"from": "checkout", "to": "payments"},
                          {"from": "payments", "to": "10.0.0.5", "kind": "runs_on"}]}
    (folder / "topology.json").write_bytes(orjson.dumps(topology))
    crash = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": POD,
             "container": "app", "job": "kube-state-metrics", "severity": "critical"}
    errors = {"alertname": "HighErrorRate", "namespace": "shop", "deployment": "checkout",
              "severity": "error"}
    disk = {"alertname": "NodeFilesystemAlmostFull", "instance": "10.0.0.5:9100",
            "job": "node-exporter", "severity": "warning"}
    alerts = [*_alert_lines(crash, T0 + 60 * M, T0 + 90 * M),
              *_alert_lines(errors, T0 + 62 * M, T0 + 90 * M),
              *_alert_lines(disk, T0 + 61 * M, T0 + 90 * M)]
    _write(folder / "alerts.jsonl", sorted(alerts, key=lambda a: a["ts"]))
    metrics = [{"ts": T0 + i * M, "name": "container_restarts_rate",
                "value": (40.0 if 60 <= i < 90 else 1.0) + (i % 3) * 0.1,
                "labels": {"namespace": "shop", "pod": POD, "container": "app"}}
               for i in range(150)]
    _write(folder / "metrics.jsonl", metrics)
    assert main(["replay", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0

    anomalies = _read(tmp_path / "out" / "anomalies.jsonl")
    assert {a["node"] for a in anomalies if a["detail"].get("outside_band") is not True} == {
        "payments"
    }, "the pod's metric names its workload"
    final = {r["id"]: r for r in _read(tmp_path / "out" / "incidents.jsonl")}
    alert_ids = {a for r in final.values() for a in r["alerts"] if a.startswith("am-")}
    assert len(alert_ids) == 3
    holder = [r for r in final.values() if r["alerts"] and "noise" not in r["labels"]]
    assert len(holder) == 1, "one incident for the pod, its caller and its host"
    incident = holder[0]
    assert set(incident["nodes"]) == {"checkout", "payments", "10.0.0.5"}
    assert incident["root_causes"], "a ranked cause, not 'no ranked cause'"
    assert incident["root_causes"][0]["node"] == "payments"
