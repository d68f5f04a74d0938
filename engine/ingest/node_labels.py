"""Which topology node an event's labels name: a configurable mapping (rules key
``topology.node_labels``).

The engine names a node by the labels ``service``, ``model`` or ``host``
(``engine.events.node_of``). Telemetry from Kubernetes and Prometheus rarely carries those: it
has ``namespace``, ``deployment``, ``pod``, ``container``, ``job``, ``instance``. ``NodeLabels``
is an ordered list of entries; the first whose ``labels`` are all present (and non-empty) names
the node, by its ``node`` template (``{label}``, or ``{label|filter}``), as a node of its
``kind`` (``service``, ``host`` or ``model``). The event then gets the label of that kind set to
the node (``service: checkout``), unless it already carries that label: labels a producer set
are never replaced. Everything downstream (detectors, correlation, ranking) reads the node from
those labels, so the mapping applies to every event kind with labels (metric points, log
records, alerts); an alert's fingerprint is computed before, from the labels as sent.

Filters:

* ``workload``: a pod name to the workload that owns it, the way Kubernetes names pods:
  ``<deployment>-<pod-template-hash>-<suffix>`` and ``<name>-<suffix>`` (DaemonSet, Job;
  hash and suffix use Kubernetes' vowel-free alphabet, ``bcdfghjklmnpqrstvwxz2456789``) and
  ``<statefulset>-<ordinal>`` lose what the controller appended;
* ``hostname``: an ``instance`` (``host:port``, ``[v6addr]:port``) without its port.

The default (``DEFAULT_NODE_LABELS``) keeps ``service``, ``model``, ``host``, then
``service_name`` / ``host_name`` (OpenTelemetry's resource attributes as an exporter flattens
them into Prometheus labels), and adds the Kubernetes and Prometheus conventions:
``namespace`` + ``deployment`` (or ``statefulset``, ``daemonset``) -> that workload, ``pod`` ->
its workload, ``instance`` -> host, and last ``job`` -> service. Decoders keep the labels as
sent, so this one mapping decides for every format.

Why ``instance`` before ``job``: every scraped Prometheus series carries both, and ``job`` names
the scrape configuration, a pool of targets (``node``, ``kubernetes-pods``,
``kube-state-metrics``, ``blackbox``), which is a service only sometimes; ``instance`` is always
the endpoint scraped, so the worst it names is the host the service runs on, which the topology
relates to the service, where ``job`` would invent nodes (``node``) that nothing relates to.
``job`` alone names a node only where it is the service: series aggregated by job (recording
rules ``job:...``, alerts on ``sum by (job)``), pushed series without ``instance``. Kubernetes
labels come before both: a kube-state-metrics series is about its ``pod``, not about the
``job`` and ``instance`` of kube-state-metrics itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from engine.events import Alert, LogRecord, MetricPoint
from engine.vocabulary import Labels

NODE_KINDS: Final = ("service", "host", "model")
_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-/]*)(?:\|([a-z_]+))?\}")
_SAFE: Final = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD: Final = re.compile(rf"(.+)-{_SAFE}{{6,10}}-{_SAFE}{{5}}")
_GENERATED_POD: Final = re.compile(rf"(.+)-{_SAFE}{{5}}")
_ORDINAL_POD: Final = re.compile(r"(.+)-\d+")
_V6_INSTANCE: Final = re.compile(r"\[([^\]]+)\](?::\d+)?")


def workload_of(pod: str) -> str:
    """The workload a pod belongs to, from its name as Kubernetes generates it.

    >>> workload_of("checkout-7d9c8b6f5d-x2k9p"), workload_of("node-exporter-4xj2q")
    ('checkout', 'node-exporter')
    >>> workload_of("postgres-0"), workload_of("standalone")
    ('postgres', 'standalone')
    """
    for pattern in (_DEPLOYMENT_POD, _GENERATED_POD, _ORDINAL_POD):
        match = pattern.fullmatch(pod)
        if match:
            return match.group(1)
    return pod


def hostname_of(instance: str) -> str:
    """A Prometheus ``instance`` without its port.

    >>> hostname_of("10.0.0.5:9100"), hostname_of("[fe80::1]:9100"), hostname_of("db-1")
    ('10.0.0.5', 'fe80::1', 'db-1')
    """
    v6 = _V6_INSTANCE.fullmatch(instance)
    if v6:
        return v6.group(1)
    host, sep, port = instance.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else instance


FILTERS: Final = {"workload": workload_of, "hostname": hostname_of}

Part = tuple[str, str, str | None]
"""One piece of a template: literal text, then a label (``""`` for none) and its filter."""


def parse_template(template: str, labels: tuple[str, ...]) -> tuple[Part, ...]:
    """A ``node`` template's parts; ``ValueError`` names what is wrong with it.

    >>> parse_template("{namespace}/{pod|workload}", ("namespace", "pod"))
    (('', 'namespace', None), ('/', 'pod', 'workload'))
    >>> parse_template("{pod|shorten}", ("pod",))
    Traceback (most recent call last):
    ValueError: unknown filter 'shorten' in '{pod|shorten}' (known: hostname, workload)
    """
    parts: list[Part] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append((_literal(template[at : match.start()], template), *_field(match, labels)))
        at = match.end()
    tail = _literal(template[at:], template)
    if not parts:
        raise ValueError(f"names no label: write {{label}} (got {template!r})")
    if tail:
        parts.append((tail, "", None))
    return tuple(parts)


def _literal(text: str, template: str) -> str:
    if "{" in text or "}" in text:
        raise ValueError("malformed: write {label} or {label|filter}")
    return text


def _field(match: re.Match[str], labels: tuple[str, ...]) -> tuple[str, str | None]:
    label, name = match.group(1), match.group(2)
    if label not in labels:
        raise ValueError(f"{{{label}}} is not one of this entry's labels ({', '.join(labels)})")
    if name is not None and name not in FILTERS:
        known = ", ".join(sorted(FILTERS))
        raise ValueError(f"unknown filter {name!r} in {match.group(0)!r} (known: {known})")
    return label, name


@dataclass(frozen=True, slots=True)
class NodeLabelRule:
    """One entry: when every label in ``labels`` is set, ``node`` names a node of ``kind``."""

    labels: tuple[str, ...]
    node: str
    kind: str = "service"
    parts: tuple[Part, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.labels or self.kind not in NODE_KINDS:
            raise ValueError(f"labels must be non-empty and kind one of {NODE_KINDS}")
        object.__setattr__(self, "parts", parse_template(self.node, self.labels))

    def render(self, labels: Labels) -> str | None:
        """The node ``labels`` name by this entry, or None when one of its labels is unset."""
        for key in self.labels:
            if not labels.get(key):
                return None
        out = []
        for literal, key, name in self.parts:
            value = labels[key] if key else ""
            out.append(literal + (FILTERS[name](value) if name else value))
        return "".join(out) or None


def _rule(labels: tuple[str, ...], node: str, kind: str = "service") -> NodeLabelRule:
    return NodeLabelRule(labels, node, kind)


DEFAULT_NODE_LABELS: Final = (
    _rule(("service",), "{service}"),
    _rule(("model",), "{model}", "model"),
    _rule(("host",), "{host}", "host"),
    _rule(("service_name",), "{service_name}"),
    _rule(("host_name",), "{host_name}", "host"),
    _rule(("namespace", "deployment"), "{deployment}"),
    _rule(("namespace", "statefulset"), "{statefulset}"),
    _rule(("namespace", "daemonset"), "{daemonset}"),
    _rule(("pod",), "{pod|workload}"),
    _rule(("instance",), "{instance|hostname}", "host"),
    _rule(("job",), "{job}"),
)

E = TypeVar("E", MetricPoint, LogRecord, Alert)


@dataclass(frozen=True, slots=True)
class NodeLabels:
    """The ordered mapping from label sets to topology nodes (module doc).

    >>> mapping = NodeLabels()
    >>> mapping.node({"namespace": "shop", "pod": "checkout-7d9c8b6f5d-x2k9p"})
    ('service', 'checkout')
    >>> mapping.apply(MetricPoint(0.0, "up", 1.0, {"instance": "10.0.0.5:9100"})).labels
    {'instance': '10.0.0.5:9100', 'host': '10.0.0.5'}
    """

    rules: tuple[NodeLabelRule, ...] = DEFAULT_NODE_LABELS

    def node(self, labels: Labels) -> tuple[str, str] | None:
        """``(kind, node)`` of the first entry that applies to ``labels``, else None."""
        for rule in self.rules:
            node = rule.render(labels)
            if node is not None:
                return rule.kind, node
        return None

    def apply(self, event: E) -> E:
        """``event`` with the label naming its node set (the same event when it has it)."""
        labels = event.labels
        if not labels or labels.get("service"):  # ``service`` names the node whatever else
            return event
        found = self.node(labels)
        if found is None or labels.get(found[0]):
            return event
        return replace(event, labels={**labels, found[0]: found[1]})
