"""Output side of the worker: routes pipeline outputs to their topics and flushes them.

Routing: anomalies -> ``anomalies`` (and, with labels, to the repartition topic keyed by
cluster; recovery-watch holds go to the repartition topic only); incidents -> ``incidents``;
actions -> ``actions`` (``model_control`` actions to the model-control topic); retrain
requests -> ``ml.retrain``; rejected records -> ``dlq``.
Decided actions are also handed to an optional ``Outbox`` (the delivery dispatcher hook).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Protocol

import orjson
from aiokafka import AIOKafkaProducer

from connectors.kafka import envelope
from connectors.kafka.config import Topics
from connectors.kafka.telemetry import METRICS, OUTPUTS
from engine.correlate.recovery import is_hold
from engine.detect.telemetry import is_telemetry
from engine.events import Action, Anomaly, Incident, Rejected, RetrainRequest

MODEL_CONTROL_TYPE = "model_control"


class Outbox(Protocol):
    """Where decided actions go for delivery (connectors/outbox.py implements it).

    ``submit`` must only enqueue (durably or not); delivery happens elsewhere. Actions carry an
    idempotency ``id`` so a replay after a crash never delivers twice.
    """

    def submit(self, actions: Sequence[Action]) -> None: ...


class OutputSink:
    """Sends outputs without waiting; ``flush`` waits until every send is acknowledged."""

    def __init__(self, producer: AIOKafkaProducer, topics: Topics, outbox: Outbox | None = None):
        self.producer = producer
        self.topics = topics
        self.outbox = outbox
        self._pending: list[asyncio.Future[object]] = []
        self._names = {
            attr: topics.name(attr)
            for attr in (
                "anomalies",
                "incidents",
                "actions",
                "retrain",
                "model_control",
                "dlq",
                "incident_in",
            )
        }

    async def _send(self, attr: str, value: bytes, key: bytes | None) -> None:
        self._pending.append(await self.producer.send(self._names[attr], value, key=key))

    async def anomalies(self, anomalies: Sequence[Anomaly]) -> None:
        """Each anomaly to ``anomalies`` and the repartition topic; a recovery-watch hold
        (engine/correlate/recovery.py) or a telemetry mark (engine/detect/telemetry.py) only
        to the repartition topic: they are internal."""
        public = 0
        for a in anomalies:
            if not (is_hold(a) or is_telemetry(a)):
                await self._send("anomalies", orjson.dumps(a.to_wire()), a.node.encode())
                public += 1
            await self._send("incident_in", envelope.encode(a), envelope.scope_of(a.labels))
        if public:
            OUTPUTS.labels(self._names["anomalies"]).inc(public)

    async def context(self, events: Iterable[envelope.ScopeEvent]) -> None:
        """Alerts and changes on their way to the incident stage (repartition by cluster)."""
        for e in events:
            await self._send("incident_in", envelope.encode(e), envelope.scope_of(e.labels))

    async def incident_outputs(self, outs: Sequence[Incident | Action | RetrainRequest]) -> None:
        actions: list[Action] = []
        for out in outs:
            if isinstance(out, Incident):
                await self._send("incidents", orjson.dumps(out.to_wire()), out.id.encode())
            elif isinstance(out, RetrainRequest):
                await self._send("retrain", orjson.dumps(out.to_wire()), out.model.encode())
            else:
                topic = "model_control" if out.type == MODEL_CONTROL_TYPE else "actions"
                # payload included: the dispatcher (connectors/kafka/dispatch.py) delivers from it
                body = out.to_wire(payload=True)
                await self._send(topic, orjson.dumps(body), out.incident.encode())
                actions.append(out)
        if actions and self.outbox is not None:
            self.outbox.submit(actions)

    async def rejected(self, rejected: Sequence[Rejected]) -> None:
        for r in rejected:
            await self._send("dlq", orjson.dumps(r.to_wire()), r.source.encode())
            METRICS.count_dead_letter(r.error)  # services: dead letters by reason on /metrics
        if rejected:
            OUTPUTS.labels(self._names["dlq"]).inc(len(rejected))

    async def flush(self) -> None:
        """Wait for every output sent so far; raises the first delivery error."""
        await self.detach().flush()

    def detach(self) -> SentOutputs:
        """The outputs sent so far, to wait for later (a background checkpoint's step 1);
        outputs sent from now on are not part of it."""
        pending, self._pending = self._pending, []
        return SentOutputs(pending)


class SentOutputs:
    """A fixed set of sends; ``flush`` waits until each is acknowledged."""

    def __init__(self, pending: list[asyncio.Future[object]]) -> None:
        self.pending = pending

    async def flush(self) -> None:
        """Raises the first delivery error."""
        if self.pending:
            await asyncio.gather(*self.pending)
