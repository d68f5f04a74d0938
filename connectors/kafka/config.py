"""Worker configuration: broker connection (with SASL/TLS pass-through), topic names, tuning.

Read from a YAML file (``vigil worker --config FILE``); every key is optional. Secrets may be
given inline or, better, as ``*_env`` names of environment variables; ``repr`` never shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, Literal

from connectors.errors import ConnectorError
from connectors.logformat import LogFormat, LogLevel
from engine.events import InputKind

DEFAULT_BOOTSTRAP: Final = "localhost:9092"
DEFAULT_GROUP: Final = "vigil"
DEFAULT_HTTP_PORT: Final = 9108
DEFAULT_METRICS_PORT: Final = DEFAULT_HTTP_PORT  # the old name of the HTTP API's port

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
RecordEncoding = Literal["json", "otlp_proto"]


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names of the wire contract (spec/events.md) plus Vigil's two internal topics.

    ``incident_in`` is the repartition topic (anomalies, alerts and changes keyed by cluster);
    ``state`` is the compacted topic of per-partition operator snapshots; ``silences`` the
    compacted topic of silences and acknowledgements shared by all workers
    (``connectors/kafka/control.py``).
    """

    prefix: str = ""
    metrics: str = "metrics"
    logs: str = "logs"
    predictions: str = "predictions"
    labels: str = "labels"
    alerts: str = "alerts"
    changes: str = "changes"
    topology: str = "topology"
    anomalies: str = "anomalies"
    incidents: str = "incidents"
    actions: str = "actions"
    """Decided actions (with their ``payload``) and, after delivery, their final records."""
    silences: str = "vigil.silences"
    """Compacted: silences keyed by id and acknowledgements keyed ``ack:<incident>``."""
    retrain: str = "ml.retrain"
    model_control: str = "model-control"
    dlq: str = "dlq"
    incident_in: str = "vigil.incident-in"
    state: str = "vigil.state"
    otlp_metrics: str = ""
    """Topic the OpenTelemetry Collector's Kafka exporter writes metrics to (``encoding:
    otlp_proto``; the Collector's default topic is ``otlp_metrics``); empty = not read."""
    otlp_logs: str = ""
    """The same for logs (the Collector's default topic is ``otlp_logs``)."""

    def name(self, attr: str) -> str:
        """The full topic name (prefix + name) of field ``attr``."""
        return self.prefix + str(getattr(self, attr))

    def detect_inputs(self) -> dict[str, InputKind]:
        """Series/model-keyed input topics -> their input kind (the detect stage), with the
        OTLP topics when set (``encoding_of`` tells them apart)."""
        kinds = (InputKind.METRICS, InputKind.LOGS, InputKind.PREDICTIONS, InputKind.LABELS)
        out = {self.name(k.value): k for k in kinds}
        for attr, kind in (("otlp_metrics", InputKind.METRICS), ("otlp_logs", InputKind.LOGS)):
            if getattr(self, attr):
                out[self.name(attr)] = kind
        return out

    def encoding_of(self, topic: str) -> RecordEncoding:
        """How the records of input ``topic`` are encoded: the contract's JSON, or OTLP."""
        otlp = {self.name(a) for a in ("otlp_metrics", "otlp_logs") if getattr(self, a)}
        return "otlp_proto" if topic in otlp else "json"

    def context_inputs(self) -> dict[str, InputKind]:
        """Alerts and changes: repartitioned by cluster to the incident stage."""
        return {self.name(k.value): k for k in (InputKind.ALERTS, InputKind.CHANGES)}

    def all_names(self) -> list[str]:
        return [
            self.name(f.name) for f in fields(self) if f.name != "prefix" and getattr(self, f.name)
        ]


@dataclass(frozen=True, slots=True)
class Security:
    """Kafka client security options, passed through to aiokafka unchanged."""

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaConsumer/Producer/AdminClient."""
        out: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            out["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        if self.protocol.startswith("SASL"):
            out["sasl_mechanism"] = self.sasl_mechanism or "PLAIN"
            out["sasl_plain_username"] = self.sasl_username
            out["sasl_plain_password"] = self.sasl_password
        return out


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Everything a worker needs; tuning defaults favour throughput over latency a little.

    ``checkpoint_interval_s``: how often state is snapshotted and offsets committed (the
    amount of input re-processed after a crash). ``max_records``: records per poll.

    HTTP API (``connectors/kafka/services.py``): ``http_port`` (0 = any free port, ``None`` =
    no server) on ``http_host``; ``metrics_port`` is its old name, used when ``http_port`` is
    not set (both ``None``: no server). The bearer token of the write endpoints is read from the
    file ``api_token_file`` when set (a mounted secret), else from the environment variable
    ``api_token_env`` (neither: writes are refused). ``console`` serves the
    incident console at ``/``. ``delivery`` runs the action dispatcher in this process
    (consumer group ``delivery_group_id``, default ``<group_id>.delivery``); file receivers
    write under ``delivery_path``.

    ``global_view``: the incidents API, event stream and console follow every partition of
    ``incidents`` and ``actions`` (``connectors/kafka/view.py``), from the beginning, or only
    records from the last ``view_lookback_s`` seconds (broker timestamps). ``lag_interval_s``:
    how often consumer lag per partition is exported. ``log_format`` (``text``/``json``) and
    ``log_level``: how the worker logs unless the command line says otherwise.
    ``fetch_max_wait_ms``: how long the broker may hold a fetch that found no data. Apache
    Kafka answers as soon as data arrives, so this only bounds idle polling there; Tansu (the
    test broker) always waits it out, so it adds up to that much produce -> anomaly latency.
    """

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    group_id: str = DEFAULT_GROUP
    client_id: str = "vigil-worker"
    topics: Topics = Topics()
    security: Security = Security()
    rules_path: str | None = None
    references_path: str | None = None
    """Folder of model reference profiles (``vigil reference build``); none: learn from traffic."""
    checkpoint_store: Literal["kafka", "file", "memory"] = "kafka"
    checkpoint_path: str = "vigil-state"
    checkpoint_interval_s: float = 1.0
    max_records: int = 20_000
    poll_timeout_ms: int = 50
    fetch_max_wait_ms: int = 10
    linger_ms: int = 5
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    rebalance_timeout_ms: int = 10_000
    metrics_port: int | None = DEFAULT_METRICS_PORT
    partitions: int = 4
    http_port: int | None = None
    http_host: str = "0.0.0.0"  # noqa: S104  (a worker serves Prometheus and probes)
    api_token_env: str | None = "VIGIL_API_TOKEN"  # noqa: S105  (a variable name)
    api_token_file: str | None = None
    console: bool = True
    delivery: bool = True
    delivery_group_id: str | None = None
    delivery_path: str = "vigil-delivery"
    global_view: bool = True
    view_lookback_s: float | None = None
    lag_interval_s: float = 5.0
    log_format: LogFormat = "text"
    log_level: LogLevel = "info"
    """Overridden by ``vigil --log-format/--log-level`` (``connectors.logformat``)."""

    def __post_init__(self) -> None:
        if self.checkpoint_interval_s <= 0:
            raise ValueError(f"checkpoint_interval_s must be > 0, got {self.checkpoint_interval_s}")
        if self.max_records < 1:
            raise ValueError(f"max_records must be >= 1, got {self.max_records}")
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be < session_timeout_ms")
        if self.view_lookback_s is not None and self.view_lookback_s <= 0:
            raise ValueError(f"view_lookback_s must be > 0, got {self.view_lookback_s}")
        if self.lag_interval_s <= 0:
            raise ValueError(f"lag_interval_s must be > 0, got {self.lag_interval_s}")

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            **self.security.client_kwargs(),
        }

    @property
    def api_port(self) -> int | None:
        """The HTTP API's port: ``http_port``, else the old ``metrics_port``."""
        return self.http_port if self.http_port is not None else self.metrics_port

    def api_token(self) -> str | None:
        """The write endpoints' bearer token, from ``api_token_file`` or ``api_token_env``
        (never logged); ``ConnectorError`` if the file cannot be read."""
        if self.api_token_file:
            try:
                return Path(self.api_token_file).read_text().strip() or None
            except OSError as exc:
                message = f"api_token_file {self.api_token_file}: {exc.strerror}"
                raise ConnectorError(message) from None
        if not self.api_token_env:
            return None
        return os.environ.get(self.api_token_env) or None

    def with_overrides(self, **changes: Any) -> WorkerConfig:
        return replace(self, **changes)


def load_config(path: str | Path) -> WorkerConfig:
    """Read a worker config YAML file, checked as ``vigil check`` does: a ``RuleError`` lists
    every problem as ``file:line: key: message`` (unknown keys, types, values)."""
    from connectors.configcheck import worker_config_problems  # it imports this module
    from engine.rules import RuleError
    from engine.rules.yamltext import load_yaml

    source = str(path)
    doc = load_yaml(Path(path).read_text(), source)
    if doc.data is None:
        doc.data = {}
    if not doc.problems and not isinstance(doc.data, dict):
        doc.problems.append(doc.problem((), "expected a mapping of worker settings"))
    problems = doc.problems or worker_config_problems(doc)
    if problems:
        raise RuleError(problems)
    return config_from_dict(doc.data, source)


def config_from_dict(data: dict[str, Any], source: str = "<config>") -> WorkerConfig:
    """Build a ``WorkerConfig`` from plain data (the YAML document)."""
    body = dict(data)
    topics = Topics(**_section(body.pop("topics", {}), Topics, f"{source}: topics"))
    raw_security = dict(body.pop("security", {}) or {})
    password_env = raw_security.pop("sasl_password_env", None)
    if password_env:
        raw_security["sasl_password"] = os.environ.get(password_env)
    security = Security(**_section(raw_security, Security, f"{source}: security"))
    top = _section(body, WorkerConfig, source)
    return WorkerConfig(topics=topics, security=security, **top)


def _section(data: Any, cls: type, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return data
