"""Running one task's batch in a worker and sending its outputs.

The worker's side of ``connectors.runner``: a detect/context task runs the pipeline's intake
stage then its own stage at the runner's ``Clock`` (``WallClock``: the worker's processing
time); what the intake added is counted with the runner's ``count_intake`` and the gauges over
every owned partition's intake are set with ``observe_intakes``, as the embedded runtime does
for its single intake. Outputs go to the ``OutputSink`` (topics), dead letters to the DLQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import TopicPartition

from connectors.kafka.broadcast import TopologyBroadcast
from connectors.kafka.sink import OutputSink
from connectors.kafka.tasks import ContextTask, DetectTask, IncidentTask, Task
from connectors.kafka.telemetry import METRICS, REJECTED, STAGE_LATENCY
from connectors.runner import Clock, IntakeCounts, WallClock, count_intake, observe_intakes
from engine.events import Rejected
from engine.ingest.intake import IntakeStage

DETECT_CHUNK: Final = 2_000
"""Records a detect task processes between two event-loop turns (~25 ms of work). A poll
returns up to ``max_records`` (20,000: ~0.25 s of work); without the turns, an anomaly found
early in such a batch waited for the whole batch before the producer could send it."""


@dataclass(slots=True)
class TaskRunner:
    """Runs a task's records and sends what it gives; ``tasks`` are every owned task (for the
    intake gauges), ``on_incident_outputs`` the services' hooks per incident batch."""

    sink: OutputSink
    intake: IntakeStage
    tasks: Mapping[TopicPartition, Task]
    topology: TopologyBroadcast
    clock: Clock = field(default_factory=WallClock)
    on_incident_outputs: list[Callable[[list[Any]], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        observe_intakes(METRICS, self.intake, [])  # the cap gauge, before any batch

    async def run(self, task: Task, records: list[Any]) -> None:
        if isinstance(task, DetectTask):
            await self._detect(task, records)
            return
        if isinstance(task, ContextTask):
            counted = IntakeCounts.of(task.intake.state)
            with STAGE_LATENCY["context"].time():
                events, rejected = task.process(records, clock=self.clock.now(()))
            self._count_intake(counted, task)
            await self.sink.context(events)  # type: ignore[arg-type]  # alerts/changes only
        else:
            with STAGE_LATENCY["incident"].time():
                outs, rejected = task.process(records, self.topology.updates)
            await self.sink.incident_outputs(outs)
            for hook in self.on_incident_outputs:  # services: incident view, console, metrics
                hook(outs)
        await self._reject(task, rejected)

    async def _detect(self, task: DetectTask, records: list[Any]) -> None:
        counted = IntakeCounts.of(task.intake.state)
        for start in range(0, len(records), DETECT_CHUNK):
            if start:  # the producer sends what the previous chunk found meanwhile
                await asyncio.sleep(0)
            chunk = records[start : start + DETECT_CHUNK]
            with STAGE_LATENCY["detect"].time():
                anomalies, rejected = task.process(chunk, clock=self.clock.now(()))
            await self.sink.anomalies(anomalies)
            await self._reject(task, rejected)
        self._count_intake(counted, task)
        if task.state.models.models:  # model-performance status gauges
            METRICS.models.observe(task.state.models)

    def _count_intake(self, before: IntakeCounts, task: DetectTask | ContextTask) -> None:
        """The intake's counters (what this batch added) and gauges (over owned partitions)."""
        count_intake(METRICS, before, IntakeCounts.of(task.intake.state))
        sources = (t for t in self.tasks.values() if not isinstance(t, IncidentTask))
        observe_intakes(METRICS, self.intake, [t.intake.state for t in sources])

    async def _reject(self, task: Task, rejected: list[Rejected]) -> None:
        if rejected:
            REJECTED.labels(task.topic).inc(len(rejected))
            await self.sink.rejected(rejected)
