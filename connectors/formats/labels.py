"""How OpenTelemetry resource attributes become Vigil labels (docs/ingest.md).

Decoders translate formats, they do not decide nodes: Prometheus labels are kept as sent
(``__name__`` is the metric name), and which node an event names is decided in the engine by
the rules key ``topology.node_labels`` (``engine.ingest.node_labels``), the same for every
input. The one renaming here is format translation: the OpenTelemetry resource attributes in
``RESOURCE_LABELS`` get Vigil's label names (``service.name`` -> ``service``, ``host.name`` ->
``host``, ``k8s.namespace.name`` -> ``namespace``, ...); other resource attributes (process ids,
``service.instance.id``, SDK versions) are dropped, so a restart does not start new series,
and so is the SDKs' ``unknown_service:<executable>`` (no ``service.name`` was set). Data point
attributes are kept under their own names.
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


def unset_service(key: str, text: str) -> bool:
    """The SDKs' stand-in for an unset ``service.name`` (``unknown_service`` or
    ``unknown_service:<executable>``, as the semantic conventions ask): it names no service, so
    the resource's other attributes (``k8s.pod.name`` ...) name the node.

    >>> unset_service("service.name", "unknown_service:python"), unset_service("service.name", "a")
    (True, False)
    """
    return key == "service.name" and text.split(":", 1)[0] == "unknown_service"


def resource_labels(attributes: Iterable[Any]) -> dict[str, str]:
    """The labels a resource's attributes give (``RESOURCE_LABELS``; others dropped)."""
    out: dict[str, str] = {}
    for kv in attributes:
        label = RESOURCE_LABELS.get(kv.key)
        if label is not None and label not in out:
            text = attribute_text(kv.value)
            if text is not None and not unset_service(kv.key, text):
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
