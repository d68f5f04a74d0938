"""How other tools' label sets and resource attributes become Vigil labels (docs/ingest.md).

Vigil names topology nodes from ``service`` and ``host`` (``engine.vocabulary.node_of``), so
each format fills those from what it carries:

* Prometheus (remote write): ``__name__`` is the metric name. When ``service`` is absent it
  is ``service_name`` (a resource attribute an exporter flattened), else ``job`` (its last
  ``/`` part: the Collector writes ``namespace/name``); when ``host`` is absent it is
  ``host_name``, else ``instance`` without its port. The original labels stay.
* OpenTelemetry resources: the attributes in ``RESOURCE_LABELS`` are renamed (``service.name``
  -> ``service``, ``host.name`` -> ``host``, ``k8s.namespace.name`` -> ``namespace``, ...);
  other resource attributes (process ids, ``service.instance.id``, SDK versions) are dropped,
  so a restart does not start new series. Data point attributes are kept under their own names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

RESOURCE_LABELS: Final[dict[str, str]] = {
    "service.name": "service",
    "service.namespace": "service_namespace",
    "service.version": "version",
    "host.name": "host",
    "k8s.node.name": "node",
    "k8s.cluster.name": "cluster",
    "k8s.namespace.name": "namespace",
    "k8s.deployment.name": "deployment",
    "k8s.statefulset.name": "statefulset",
    "k8s.daemonset.name": "daemonset",
    "k8s.pod.name": "pod",
    "k8s.container.name": "container",
    "deployment.environment": "env",
    "deployment.environment.name": "env",
    "cloud.region": "region",
}
"""OpenTelemetry resource attribute -> Vigil label (semantic conventions' names)."""


def prometheus_labels(labels: dict[str, str]) -> dict[str, str]:
    """Prometheus labels (``__name__`` removed) with ``service``/``host`` filled in, in place.

    >>> prometheus_labels({"job": "payments", "instance": "node-3:9100"})
    {'job': 'payments', 'instance': 'node-3:9100', 'service': 'payments', 'host': 'node-3'}
    >>> prometheus_labels({"job": "prod/checkout", "instance": "[::1]:8080", "host": "h"})
    {'job': 'prod/checkout', 'instance': '[::1]:8080', 'host': 'h', 'service': 'checkout'}
    """
    if "service" not in labels:
        job = labels.get("job")
        service = labels.get("service_name") or (job.rsplit("/", 1)[-1] if job else None)
        if service:
            labels["service"] = service
    if "host" not in labels:
        instance = labels.get("instance")
        host = labels.get("host_name") or (host_of(instance) if instance else None)
        if host:
            labels["host"] = host
    return labels


def host_of(instance: str) -> str:
    """``instance`` without its port: ``node-3:9100`` -> ``node-3``, ``[::1]:80`` -> ``::1``."""
    if instance.startswith("["):
        return instance[1 : instance.find("]")] if "]" in instance else instance
    head, sep, port = instance.rpartition(":")
    return head if sep and port.isdigit() and head.count(":") == 0 else instance


def attribute_text(value: Any) -> str | None:
    """An OTLP ``AnyValue`` as a label value (scalars only; ``None`` for arrays, maps, bytes)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(value.double_value)
    return None


def resource_labels(attributes: Iterable[Any]) -> dict[str, str]:
    """The labels a resource's attributes give (``RESOURCE_LABELS``; others dropped)."""
    out: dict[str, str] = {}
    for kv in attributes:
        label = RESOURCE_LABELS.get(kv.key)
        if label is not None and label not in out:
            text = attribute_text(kv.value)
            if text is not None:
                out[label] = text
    return out


def with_attributes(base: Mapping[str, str], attributes: Iterable[Any]) -> dict[str, str]:
    """``base`` plus a data point's scalar attributes under their own names."""
    out = dict(base)
    for kv in attributes:
        text = attribute_text(kv.value)
        if text is not None:
            out[kv.key] = text
    return out
