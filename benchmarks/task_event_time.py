"""Per-record cost of event time in a Kafka detect task: the watermark tracker on the hot path.

Measured in the same run, on the same records (single-point metric records shaped like
``benchmarks.kafka_throughput``'s: 250 hosts in one partition, one point per host and 10 s),
in chunks of ``connectors.kafka.worker.DETECT_CHUNK`` records, best of ``--rounds``, with the
worker's garbage-collector threshold:

* baseline: decode + the task's old watermark (the newest event time of the partition);
* candidate: ``PartitionIntake.judge``: decode + ``IntakeStage.process_source`` (per-producer
  lateness, robust source time, the series cap) + the watermark;
* the way the embedded runtime calls the tracker: decode + a ``Sourced`` per event +
  ``WatermarkTracker.process`` + splitting dead letters from events (what ``process_source``
  avoids);
* the whole task (decode, event time, ``DetectStage``): old watermark vs ``DetectTask.process``.

Synthetic records (fixed seed): no dataset; ``--data`` is accepted for symmetry and ignored.

    python -m benchmarks.task_event_time [--records 100000] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.kafka.decoder import decode_batch
from connectors.kafka.partition import PartitionIntake
from connectors.kafka.taskrun import DETECT_CHUNK
from connectors.kafka.tasks import DetectTask, Position
from connectors.kafka.worker import GC_THRESHOLD0
from engine.events import InputKind, Rejected
from engine.ingest.watermark import Sourced, WatermarkTracker
from engine.pipeline import Pipeline
from engine.rules import RuleSet

T0 = 1_764_115_200.0
HOSTS = 250
TOPIC, PARTITION = "metrics", 0


@dataclass(slots=True)
class Rec:
    offset: int
    value: bytes
    timestamp: int = int(T0 * 1000)


def make_records(count: int, seed: int = 5) -> list[Rec]:
    rng = random.Random(seed)
    return [
        Rec(
            i,
            orjson.dumps(
                {
                    "ts": T0 + 10.0 * (i // HOSTS),
                    "name": "latency",
                    "value": 10 + rng.gauss(0, 1),
                    "labels": {"service": f"svc-{i % 50}", "host": f"h{i % HOSTS}"},
                }
            ),
        )
        for i in range(count)
    ]


def clock(chunk: int) -> float:
    """The worker's wall clock at a chunk: ~27 ms a chunk at 75k records/s."""
    return T0 + chunk * DETECT_CHUNK / 75_000


def old_watermark(records: Sequence[Rec], position: Position) -> list[Any]:
    """What a task did before: decode, newest event time of the partition."""
    events, _ = decode_batch(InputKind.METRICS, TOPIC, PARTITION, records)
    position.advance(records, events)
    return events


def run_baseline(chunks: list[list[Rec]]) -> None:
    position = Position()
    for chunk in chunks:
        old_watermark(chunk, position)


def run_candidate(chunks: list[list[Rec]]) -> None:
    event_time, position = PartitionIntake(), Position()
    for i, chunk in enumerate(chunks):
        event_time.judge(InputKind.METRICS, TOPIC, PARTITION, chunk, position, clock(i))


def run_sourced(chunks: list[list[Rec]]) -> None:
    tracker = WatermarkTracker()
    state = tracker.initial_state()
    for i, chunk in enumerate(chunks):
        events, _ = decode_batch(InputKind.METRICS, TOPIC, PARTITION, chunk)
        batch = [Sourced(TOPIC, e, PARTITION) for e in events]
        state, out = tracker.process(state, batch, now=clock(i))
        _ = [e for e in out if type(e) is not Rejected]


def run_task_baseline(chunks: list[list[Rec]]) -> None:
    stage = Pipeline.from_rules(RuleSet()).detect
    state, position = stage.initial_state(), Position()
    for chunk in chunks:
        events = old_watermark(chunk, position)
        state, _ = stage.process(state, events, now=position.watermark)


def run_task_candidate(chunks: list[list[Rec]]) -> None:
    stage = Pipeline.from_rules(RuleSet()).detect
    task = DetectTask(stage, InputKind.METRICS, TOPIC, PARTITION, stage.initial_state(), Position())
    for i, chunk in enumerate(chunks):
        task.process(chunk, clock=clock(i))


def best_us(run: Callable[[list[list[Rec]]], None], chunks: list[list[Rec]], rounds: int) -> float:
    """Best per-record microseconds over ``rounds`` runs."""
    count = sum(len(c) for c in chunks)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(chunks)
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 records, 3 rounds")
    parser.add_argument("--data", help="ignored (synthetic records)")
    args = parser.parse_args()
    count, rounds = (20_000, 3) if args.quick else (args.records, args.rounds)
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(GC_THRESHOLD0, gen0), gen1, gen2)  # as the worker runs
    records = make_records(count)
    chunks = [records[i : i + DETECT_CHUNK] for i in range(0, count, DETECT_CHUNK)]
    print(f"python {platform.python_version()}  records={count} hosts={HOSTS} rounds={rounds}")
    pairs = [
        ("decode + watermark", run_baseline, run_candidate, "process_source"),
        ("decode + watermark", run_baseline, run_sourced, "Sourced + process"),
        ("whole detect task", run_task_baseline, run_task_candidate, "with tracker"),
    ]
    for label, baseline, candidate, name in pairs:
        base_us, cand_us = best_us(baseline, chunks, rounds), best_us(candidate, chunks, rounds)
        print(
            f"{label:20s} baseline (newest ts) {base_us:6.3f} us/record   {name:18s}"
            f" {cand_us:6.3f} us/record   ratio {cand_us / base_us:5.2f}"
            f"   (+{cand_us - base_us:.3f} us)"
        )


if __name__ == "__main__":
    main()
