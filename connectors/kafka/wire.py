"""Decoded input events back into the wire contract's records, for the HTTP ingest of workers.

A worker's ``POST`` ingest endpoints (Alertmanager, remote write, OTLP, changes) do not feed
its pipeline directly: ``records_of`` turns the decoded events into records of the input
topics, keyed as docs/events.md asks producers to key them, so they reach the stages through
the same partitions as every other producer's records (and survive a crash of this worker
once the broker acknowledged them). Each record decodes back to an equal event.

* alerts: the single-alert form, keyed by fingerprint, one record each;
* metrics: keyed by series (``name{labels}``); the points of one series in one request are
  one record holding a JSON array (a batch, as the contract allows);
* logs: keyed by ``labels.service``, changes by ``service``; arrays per key as for metrics;
* dead letters: the ``dlq`` topic, key ``http``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from engine.events import Alert, Change, InputEvent, LogRecord, MetricPoint, Rejected

Record = tuple[str, bytes, bytes]
"""``(topic field of connectors.kafka.config.Topics, key, value)``."""


def alert_to_wire(alert: Alert) -> dict[str, Any]:
    """The single-alert form of ``alert`` (spec: alerts), decoding back to an equal ``Alert``."""
    out: dict[str, Any] = {
        "ts": alert.ts,
        "name": alert.name,
        "status": alert.status.value,
        "severity": alert.severity.value,
        "fingerprint": alert.fingerprint,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
    }
    if alert.starts_at is not None:
        out["startsAt"] = alert.starts_at
    if alert.ends_at is not None:
        out["endsAt"] = alert.ends_at
    if alert.generator_url is not None:
        out["generatorURL"] = alert.generator_url
    return out


def _metric(point: MetricPoint) -> dict[str, Any]:
    return {"ts": point.ts, "name": point.name, "value": point.value, "labels": point.labels}


def _log(record: LogRecord) -> dict[str, Any]:
    return {
        "ts": record.ts,
        "message": record.message,
        "level": record.level.name,
        "labels": record.labels,
    }


def _change(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ts": change.ts,
        "kind": change.kind,
        "service": change.service,
        "description": change.description,
        "labels": change.labels,
    }
    if change.version is not None:
        out["version"] = change.version
    return out


def records_of(events: Iterable[InputEvent | Rejected]) -> list[Record]:
    """The records to produce for ``events`` (see the module docstring); an event of a kind
    the HTTP API never decodes is a dead letter saying so."""
    out: list[Record] = []
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        if isinstance(event, MetricPoint):
            grouped.setdefault(("metrics", event.key), []).append(_metric(event))
        elif isinstance(event, LogRecord):
            grouped.setdefault(("logs", event.labels.get("service", "")), []).append(_log(event))
        elif isinstance(event, Change):
            grouped.setdefault(("changes", event.service), []).append(_change(event))
        elif isinstance(event, Alert):
            body = orjson.dumps(alert_to_wire(event))
            out.append(("alerts", event.fingerprint.encode(), body))
        elif isinstance(event, Rejected):
            out.append(("dlq", b"http", orjson.dumps(event.to_wire())))
        else:
            reason = f"no Kafka record form for {type(event).__name__} from the HTTP API"
            out.append(("dlq", b"http", orjson.dumps(Rejected("http", reason, b"").to_wire())))
    for (topic, key), items in grouped.items():
        value = orjson.dumps(items[0] if len(items) == 1 else items)
        out.append((topic, key.encode(), value))
    return out
