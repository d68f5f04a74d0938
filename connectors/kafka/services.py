"""What a Kafka worker serves beside its hot loop: the HTTP API, the console, delivery.

``WorkerServices`` is started by ``connectors.kafka.app.serve`` around the ``Worker``:

* **HTTP API** (``connectors.http``) on ``cfg.api_port``: ``/metrics`` renders the worker's
  ``VigilMetrics`` (``connectors.kafka.telemetry.METRICS``), ``/healthz``, ``/readyz`` (200
  once the first partition assignment is restored), incidents, silences, the event stream, and
  the ingest endpoints (Alertmanager webhook and v2, remote write, OTLP, changes): decoded
  events are produced to their input topics (``connectors.kafka.wire``: alerts in the
  single-alert form keyed by fingerprint, metrics keyed by series, ...), so they reach the
  stages through the same partitions as every other producer's records; rejects go to
  ``dlq``. The answer is sent once the broker has acknowledged them.
* **Console** (``connectors.console``) at ``/``, fed with this worker's incident-stage outputs
  (``observe_incident_outputs``, called by the worker after each incident batch) and with the
  outcome of every action its dispatcher delivers.
* **Global view** (``connectors.kafka.view``, ``global_view: true``): every partition of
  ``incidents`` and ``actions`` feeds the incidents API, the event stream and the console, so
  each worker shows the incidents of all workers (de-duplicated by id + revision / action id).
* **Silences and acknowledgements** (``connectors.kafka.control``): one compacted topic read
  fully at start and followed; the API writes silences to it, the console's acknowledgements
  too (pushed over the event stream on every worker), and the dispatcher mutes what they match.
* **Delivery** (``connectors.kafka.dispatch.ActionDispatcher``): decided actions from the
  ``actions`` topic to the receivers of the routing rules.
* **Consumer lag** (``connectors.kafka.lag``) of the worker's and the dispatcher's consumers,
  sampled every ``lag_interval_s`` into ``vigil_consumer_lag_records``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from connectors.console.recorder import Acknowledgement, ConsoleRecorder
from connectors.console.routes import mount_console
from connectors.http import AppState, start_http_server
from connectors.http.ingest import Decoded
from connectors.http.stream import publish_ack
from connectors.kafka.config import WorkerConfig
from connectors.kafka.control import SharedControl
from connectors.kafka.dispatch import ActionDispatcher
from connectors.kafka.follower import TopicFollower
from connectors.kafka.lag import LagMonitor
from connectors.kafka.telemetry import METRICS
from connectors.kafka.view import GlobalView
from connectors.kafka.wire import records_of
from engine.events import Action, Incident, RetrainRequest
from engine.rules import RuleSet

log = logging.getLogger("vigil.services")


class WorkerServices:
    """HTTP API + console + dispatcher of one worker process (see the module docstring)."""

    def __init__(self, cfg: WorkerConfig, rules: RuleSet) -> None:
        self.cfg, self.rules = cfg, rules
        self.silences = SharedControl(self._send_control, on_ack=self._on_ack)
        self.state = AppState(
            metrics=METRICS,
            silences=self.silences,
            token=cfg.api_token(),
            limits=rules.runtime.http,
            ingest=self.ingest,
        )
        self.recorder = ConsoleRecorder()
        if cfg.console:
            mount_console(self.state, self.recorder, acks=self.silences.acknowledge)
        self.view = GlobalView(cfg.topics.name("incidents"), self.state.incidents, self.recorder)
        self.lag = LagMonitor(METRICS.consumer_lag, cfg.lag_interval_s)
        self.followers: list[TopicFollower] = []
        self._background: list[asyncio.Task[None]] = []
        self._stop_background = asyncio.Event()
        self.producer: AIOKafkaProducer | None = None
        self.runner: web.AppRunner | None = None
        self.dispatcher: ActionDispatcher | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._stop_dispatch = asyncio.Event()
        self._clients: list[Any] = []

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(acks="all", linger_ms=5, **self.cfg.client_kwargs())
        await self.producer.start()
        await self._follow([self.cfg.topics.name("silences")], self.silences.apply_records, None)
        await self.followers[0].catch_up()  # every silence known before anything is delivered
        if self.cfg.global_view:
            topics = [self.cfg.topics.name("incidents"), self.cfg.topics.name("actions")]
            await self._follow(topics, self.view.apply_records, self.cfg.view_lookback_s)
        if self.cfg.api_port is not None:
            self.runner = await start_http_server(self.state, self.cfg.http_host, self.cfg.api_port)
        if self.cfg.delivery:
            await self._start_delivery()
        self._background.append(asyncio.ensure_future(self.lag.run(self._stop_background)))

    async def _follow(self, topics: list[str], on_records: Any, lookback_s: float | None) -> None:
        kwargs = {**self.cfg.client_kwargs(), "client_id": f"{self.cfg.client_id}-follower"}
        follower = TopicFollower(topics, kwargs, on_records, lookback_s=lookback_s)
        await follower.start()
        self.followers.append(follower)
        self._background.append(asyncio.ensure_future(follower.run(self._stop_background)))

    async def _send_control(self, key: bytes, value: bytes) -> None:
        if self.producer is None:
            raise KafkaError("producer not started")
        await self.producer.send_and_wait(self.cfg.topics.name("silences"), value, key=key)

    def _on_ack(self, ack: Acknowledgement) -> None:
        """An acknowledgement read from the silences topic (any worker's): console + stream."""
        self.recorder.acknowledge(ack)
        publish_ack(self.state, ack.incident, ack.to_wire())

    def watch_lag(self, consumer: Any) -> None:
        """Worker hook: export this consumer's lag per partition (sampled on a timer)."""
        self.lag.watch(consumer)

    async def _start_delivery(self) -> None:
        from connectors.notify import open_links

        out = Path(self.cfg.delivery_path)
        links, self._clients = open_links(self.rules.routing, os.environ, out)
        self.dispatcher = ActionDispatcher(
            self.cfg,
            links,
            silences=self.silences.active,
            on_final=self.observe_outcome,
        )
        await self.dispatcher.start()
        self.lag.watch(self.dispatcher.consumer)
        self._dispatch_task = asyncio.ensure_future(self.dispatcher.run(self._stop_dispatch))

    @property
    def port(self) -> int | None:
        """The bound HTTP port (``None`` without a server)."""
        return None if self.runner is None else int(self.runner.addresses[0][1])

    def mark_ready(self) -> None:
        """Worker hook: partition state is restored (``/readyz`` turns 200)."""
        if not self.state.ready:
            self.state.mark_ready()

    def observe_incident_outputs(self, outs: Sequence[Incident | Action | RetrainRequest]) -> None:
        """Worker hook, after each incident-stage batch: incident view, console, metrics."""
        if not outs:
            return
        self.state.incidents.apply(outs)
        self.recorder.observe((), outs)
        counts: dict[str, int] = {}
        for out in outs:
            attr = (
                "incidents"
                if isinstance(out, Incident)
                else "retrain"
                if isinstance(out, RetrainRequest)
                else "model_control"
                if out.type == "model_control"
                else "actions"
            )
            counts[attr] = counts.get(attr, 0) + 1
        for attr, n in counts.items():
            METRICS.records_out.labels(topic=self.cfg.topics.name(attr)).inc(n)
        METRICS.incidents_open.set(self.state.incidents.open_count)

    def observe_outcome(self, final: Action) -> None:
        """Dispatcher hook: one action's delivery outcome (console status, receiver metrics)."""
        self.recorder.record_actions([final])
        METRICS.count_outcome(final)
        if self.dispatcher is not None:
            METRICS.outbox_depth.set(self.dispatcher.backlog())

    async def ingest(self, events: list[Decoded]) -> bool:
        """The HTTP ingest endpoints: events to their input topics, rejects to ``dlq``
        (``connectors.kafka.wire``); ``True`` once the broker acknowledged every record."""
        if self.producer is None:
            return False
        topics, sends, counts = self.cfg.topics, [], dict[str, int]()
        for attr, key, body in records_of(events):
            topic = topics.name(attr)
            sends.append(await self.producer.send(topic, body, key=key))
            counts[topic] = counts.get(topic, 0) + 1
        try:
            await asyncio.gather(*sends)
        except KafkaError as exc:  # the broker refused: every sender here retries on 503
            log.warning("http ingest failed reason=%s", exc)
            return False
        for topic, n in counts.items():
            if topic != topics.name("dlq"):
                METRICS.records_out.labels(topic=topic).inc(n)
        return True

    async def stop(self) -> None:
        self._stop_background.set()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for follower in self.followers:
            await follower.stop()
        if self._dispatch_task is not None:
            self._stop_dispatch.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatch_task
        for client in self._clients:
            await client.aclose()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.producer is not None:
            await self.producer.stop()
