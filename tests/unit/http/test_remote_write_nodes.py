"""Which topology node real-shaped Prometheus series name, sent by remote write (issue 17).

The decoder keeps the labels as Prometheus sent them; the shipped rules' ``topology.node_labels``
(the default) decides the node, as the engine's stages do for every metric point. On main the
decoder filled ``service`` from ``job`` first, so a kube-state-metrics series about a pod named
the job ``kube-state-metrics`` and node exporter's data named a node ``node``.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from connectors.rulefiles import load_rules
from engine.events import MetricPoint
from engine.rules.runtime import HttpLimits
from engine.vocabulary import node_of
from tests.unit.http.conftest import TOKEN
from tests.unit.http.test_telemetry_ingest import RW_HEADERS, drained, write_request

ROOT = Path(__file__).resolve().parents[3]
T_MS = 1764115200000
SERIES = {
    "kube-state-metrics": {
        "__name__": "kube_pod_container_status_restarts_total", "namespace": "shop",
        "pod": "payments-7d9c8b6f5d-x2k9p", "container": "app", "job": "kube-state-metrics",
        "instance": "10.0.1.9:8080", "uid": "0d9f6c1e-4b1a-4e55-9d6c-1f2e3a4b5c6d",
    },
    "node-exporter": {
        "__name__": "node_cpu_seconds_total", "cpu": "0", "mode": "idle",
        "instance": "10.0.0.7:9100", "job": "node",
    },
    "app": {
        "__name__": "http_requests_total", "code": "200", "method": "GET",
        "job": "checkout", "instance": "10.0.0.5:8080",
    },
    "recording rule": {"__name__": "job:http_requests:rate5m", "job": "checkout"},
    "deployment": {
        "__name__": "kube_deployment_status_replicas_unavailable", "namespace": "shop",
        "deployment": "checkout", "job": "kube-state-metrics", "instance": "10.0.1.9:8080",
    },
}
EXPECTED = {
    "kube-state-metrics": ("service", "payments"),  # the pod's workload, not the job
    "node-exporter": ("host", "10.0.0.7"),  # the machine, not a service "node"
    "app": ("host", "10.0.0.5"),  # the target scraped (its job is a pool of targets)
    "recording rule": ("service", "checkout"),  # aggregated by job: the job is the service
    "deployment": ("service", "checkout"),
}


def test_remote_written_series_name_the_node_the_default_node_labels_give() -> None:
    state = AppState(ingest=QueueIngest(maxsize=100), token=TOKEN, limits=HttpLimits())
    body = write_request(*((labels, [(1.0, T_MS)]) for labels in SERIES.values()))
    with BackgroundServer(state) as server:
        answer = httpx.post(f"{server.url}/api/v1/write", content=body, headers=RW_HEADERS)
    assert answer.status_code == 204
    points = drained(state)
    assert all(isinstance(p, MetricPoint) for p in points)
    sent = {k: {n: v for n, v in s.items() if n != "__name__"} for k, s in SERIES.items()}
    assert [getattr(p, "labels", None) for p in points] == list(sent.values())  # as sent
    mapping = load_rules([ROOT / "rules"]).topology.node_mapping()  # the shipped rules
    named: dict[str, tuple[str, str]] = {}
    for kind, point in zip(SERIES, points, strict=True):
        assert isinstance(point, MetricPoint)
        mapped = mapping.apply(point).labels
        found = mapping.node(point.labels)
        assert found is not None, kind
        named[kind] = found
        assert node_of(mapped) == found[1], kind  # what the detectors and correlation read
    assert named == EXPECTED
