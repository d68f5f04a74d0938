"""Decoded input events back into the wire contract's records, for the HTTP ingest of workers.

A worker's ``POST`` ingest endpoints (Alertmanager, remote write, OTLP, changes) do not feed
its pipeline directly: ``records_of`` turns the decoded events into records of the input
topics, keyed as docs/events.md asks producers to key them, so they reach the stages through
the same partitions as every other producer's records (and survive a crash of this worker
once the broker acknowledged them). Each record is the event's ``to_wire`` form and decodes
back to an equal event.

* alerts: the single-alert form (``Alert.to_wire``), keyed by fingerprint, one record each;
* metrics: keyed by series (``name{labels}``); the points of one series in one request are
  one record holding a JSON array (a batch, as the contract allows);
* logs: keyed by ``labels.service``, changes by ``service``; arrays per key as for metrics;
* dead letters: the ``dlq`` topic, key ``http``.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from engine.events import Alert, Change, InputEvent, LogRecord, MetricPoint, Rejected
from engine.vocabulary import JsonDict

Record = tuple[str, bytes, bytes]
"""``(topic field of connectors.kafka.config.Topics, key, value)``."""


def records_of(events: Iterable[InputEvent | Rejected]) -> list[Record]:
    """The records to produce for ``events`` (see the module docstring); an event of a kind
    the HTTP API never decodes is a dead letter saying so."""
    out: list[Record] = []
    grouped: dict[tuple[str, str], list[JsonDict]] = {}
    for event in events:
        if isinstance(event, MetricPoint):
            grouped.setdefault(("metrics", event.key), []).append(event.to_wire())
        elif isinstance(event, LogRecord):
            service = event.labels.get("service", "")
            grouped.setdefault(("logs", service), []).append(event.to_wire())
        elif isinstance(event, Change):
            grouped.setdefault(("changes", event.service), []).append(event.to_wire())
        elif isinstance(event, Alert):
            body = orjson.dumps(event.to_wire())
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
