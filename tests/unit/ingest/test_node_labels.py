"""topology.node_labels: which labels name a topology node (engine/ingest/node_labels.py)."""

from __future__ import annotations

import pytest

from engine.events import Alert, AlertStatus, LogRecord, MetricPoint, Severity
from engine.ingest.node_labels import NodeLabelRule, NodeLabels, hostname_of, workload_of
from engine.rules.schema import parse


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("checkout-7d9c8b6f5d-x2k9p", "checkout"),  # Deployment: ReplicaSet hash + suffix
        ("api-gateway-5b8c7f9d4-qwz7t", "api-gateway"),  # a 9-character hash
        ("fluent-bit-4xj2q", "fluent-bit"),  # DaemonSet / Job: a 5-character suffix
        ("postgres-12", "postgres"),  # StatefulSet ordinal
        ("backup-29163540-b6k7n", "backup-29163540"),  # CronJob: the Job keeps its name
        ("api-stats", "api-stats"),  # a vowel: not a generated suffix
        ("standalone", "standalone"),
    ],
)
def test_workload_of_strips_what_kubernetes_appends(pod: str, workload: str) -> None:
    assert workload_of(pod) == workload


def test_hostname_of_strips_only_a_port() -> None:
    assert hostname_of("db-1.example.org:9100") == "db-1.example.org"
    assert hostname_of("[2001:db8::1]:9100") == "2001:db8::1"
    assert hostname_of("2001:db8::1") == "2001:db8::1"
    assert hostname_of("db-1:http") == "db-1:http"


def test_a_label_the_producer_set_is_never_replaced_and_service_wins() -> None:
    mapping = NodeLabels()
    sent = MetricPoint(0.0, "up", 1.0, {"service": "api", "pod": "web-7d9c8b6f5d-x2k9p"})
    assert mapping.apply(sent) is sent
    host = MetricPoint(0.0, "up", 1.0, {"host": "n1", "instance": "10.0.0.5:9100"})
    assert mapping.apply(host) is host
    pod_on_host = MetricPoint(0.0, "up", 1.0, {"host": "n1", "pod": "web-7d9c8b6f5d-x2k9p"})
    assert mapping.apply(pod_on_host) is pod_on_host  # host comes first in the default


def test_every_event_kind_with_labels_is_mapped() -> None:
    mapping = NodeLabels()
    labels = {"namespace": "shop", "deployment": "checkout"}
    log = mapping.apply(LogRecord(0.0, "boom", labels=labels))
    alert = mapping.apply(Alert(0.0, "Down", AlertStatus.FIRING, Severity.ERROR, "fp", labels))
    assert log.labels["service"] == "checkout"
    assert alert.labels["service"] == "checkout"
    assert alert.fingerprint == "fp"


def test_rules_replace_the_default_in_order() -> None:
    rules = parse(
        "topology:\n  node_labels:\n"
        "    - labels: [namespace, app]\n      node: '{namespace}/{app}'\n"
        "    - labels: [instance]\n      node: '{instance|hostname}'\n      kind: host\n"
    )
    mapping = rules.topology.node_mapping()
    assert mapping.node({"namespace": "shop", "app": "cart", "instance": "h:1"}) == (
        "service", "shop/cart"
    )
    assert mapping.node({"instance": "h:1"}) == ("host", "h")
    assert mapping.node({"pod": "web-7d9c8b6f5d-x2k9p"}) is None  # not in these rules
    assert parse("topology: {}\n").topology.node_mapping() == NodeLabels()


def test_a_rule_names_only_its_own_labels() -> None:
    with pytest.raises(ValueError, match="not one of this entry's labels"):
        NodeLabelRule(("pod",), "{namespace}/{pod}")
