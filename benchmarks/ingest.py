"""Ingest throughput on one core: Prometheus remote write and OTLP beside the JSON path.

The same samples (fixed seed: ``--series`` series, ``--points`` points each, labels like a
Kubernetes scrape) are decoded into ``MetricPoint``s four ways, interleaved over ``--rounds``:

* **baseline, JSON records**: one contract record per sample through the worker's decoder
  (``connectors.kafka.decoder.decode_batch``), the path every JSON producer takes;
* **remote write**: ``WriteRequest``s of ``--per-request`` samples (Prometheus' default
  ``max_samples_per_send`` is 2000), snappy block-compressed, through
  ``connectors.formats.remote_write.decode_remote_write`` (decompression included);
* **OTLP protobuf**: ``ExportMetricsServiceRequest``s of the same size, gzip-compressed (the
  Collector's ``otlphttp`` default), through ``connectors.http.limits.decoded`` and
  ``connectors.formats.otlp.decode_metrics``;
* **OTLP JSON**: the same requests in the OTLP JSON mapping, uncompressed.

Decode only, in one process (no sockets): the HTTP server's share is the same for every
format. Prints samples/s per path and each path's time over the baseline's (>1 is slower).

    python -m benchmarks.ingest [--series 200] [--points 100] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cramjam
import orjson
from google.protobuf import json_format
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from connectors.formats.otlp import decode_metrics
from connectors.formats.remote_write import decode_remote_write
from connectors.http.limits import decoded
from connectors.kafka.decoder import decode_batch
from engine.events import InputKind, MetricPoint
from engine.ingest.decode import Origin

T0_MS = 1_764_115_200_000
MAX_BYTES = 64 << 20
RESOURCE_KEYS = (
    ("service", "service.name"),
    ("host", "host.name"),
    ("namespace", "k8s.namespace.name"),
    ("pod", "k8s.pod.name"),
)


@dataclass(frozen=True)
class Sample:
    ts_ms: int
    name: str
    value: float
    labels: dict[str, str]


@dataclass
class KafkaRecord:
    offset: int
    timestamp: int
    value: bytes | None


METRIC_NAMES = (
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "http_requests_total",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
    "process_open_fds",
    "go_goroutines",
    "grpc_server_handled_total",
    "db_client_connections_usage",
    "queue_depth",
)


def make_samples(n_series: int, n_points: int, seed: int = 7) -> list[Sample]:
    """Samples in scrape order (every series at each timestamp), as a scraper produces them:
    pods of ``len(METRIC_NAMES)`` series each."""
    rng = random.Random(seed)
    series = []
    for i in range(n_series):
        pod = i // len(METRIC_NAMES)
        labels = {
            "namespace": f"ns-{pod % 5}",
            "pod": f"api-{pod:04d}-7c9f",
            "container": "app",
            "service": f"svc-{pod % 20}",
            "host": f"node-{pod % 12}",
        }
        series.append((METRIC_NAMES[i % len(METRIC_NAMES)], labels))
    return [
        Sample(T0_MS + 15_000 * p, name, rng.lognormvariate(-1.5, 0.5), labels)
        for p in range(n_points)
        for name, labels in series
    ]


def json_records(samples: list[Sample]) -> list[KafkaRecord]:
    return [
        KafkaRecord(
            i,
            s.ts_ms,
            orjson.dumps(
                {"ts": s.ts_ms / 1000, "name": s.name, "value": s.value, "labels": s.labels}
            ),
        )
        for i, s in enumerate(samples)
    ]


def remote_write_bodies(samples: list[Sample], per_request: int) -> list[bytes]:
    bodies = []
    for start in range(0, len(samples), per_request):
        request = WriteRequest()
        for s in samples[start : start + per_request]:
            ts = request.timeseries.add()
            ts.labels.add(name="__name__", value=s.name)
            for key, value in sorted(s.labels.items()):
                ts.labels.add(name=key, value=value)
            ts.samples.add(value=s.value, timestamp=s.ts_ms)
        bodies.append(bytes(cramjam.snappy.compress_raw(request.SerializeToString())))
    return bodies


def otlp_requests(samples: list[Sample], per_request: int) -> list[ExportMetricsServiceRequest]:
    """As an SDK exports them: one resource per pod and export (timestamp) holding that pod's
    metrics, one gauge point each (attribute ``container``)."""
    requests = []
    for start in range(0, len(samples), per_request):
        request = ExportMetricsServiceRequest()
        current: tuple[str, int] | None = None
        metrics: Any = None
        for s in samples[start : start + per_request]:
            if current != (s.labels["pod"], s.ts_ms):
                current = (s.labels["pod"], s.ts_ms)
                resource = request.resource_metrics.add()
                for key, attr in RESOURCE_KEYS:
                    resource.resource.attributes.add(key=attr).value.string_value = s.labels[key]
                metrics = resource.scope_metrics.add().metrics
            point = metrics.add(name=s.name).gauge.data_points.add(as_double=s.value)
            point.time_unix_nano = s.ts_ms * 1_000_000
            point.attributes.add(key="container").value.string_value = s.labels["container"]
        requests.append(request)
    return requests


def time_once(fn: Callable[[], int], expected: int) -> float:
    start = time.perf_counter()
    produced = fn()
    elapsed = time.perf_counter() - start
    assert produced == expected, (produced, expected)
    return elapsed


def paths(samples: list[Sample], per_request: int) -> dict[str, Callable[[], int]]:
    records = json_records(samples)
    rw = remote_write_bodies(samples, per_request)
    requests = otlp_requests(samples, per_request)
    otlp_gzip = [gzip.compress(r.SerializeToString(), compresslevel=6) for r in requests]
    otlp_json = [json_format.MessageToJson(r, indent=None).encode() for r in requests]
    origin = Origin("bench")

    def json_path() -> int:
        events, _ = decode_batch(InputKind.METRICS, "metrics", 0, records)
        return len(events)

    def remote_write_path() -> int:
        return sum(len(decode_remote_write(b, origin, MAX_BYTES).events) for b in rw)

    def otlp_proto_path() -> int:
        return sum(
            len(decode_metrics(decoded(b, "gzip", MAX_BYTES), origin).events) for b in otlp_gzip
        )

    def otlp_json_path() -> int:
        return sum(len(decode_metrics(b, origin, "json").events) for b in otlp_json)

    return {
        "baseline JSON records": json_path,
        "remote write (snappy)": remote_write_path,
        "OTLP protobuf (gzip)": otlp_proto_path,
        "OTLP JSON": otlp_json_path,
    }


def check_same_points(samples: list[Sample], per_request: int) -> None:
    """Every path yields the baseline's samples (names, values, times)."""
    origin = Origin("bench")
    small = samples[: min(len(samples), per_request)]
    base, _ = decode_batch(InputKind.METRICS, "metrics", 0, json_records(small))
    rw = decode_remote_write(remote_write_bodies(small, per_request)[0], origin, MAX_BYTES)
    otlp = decode_metrics(otlp_requests(small, per_request)[0].SerializeToString(), origin)
    for events in (rw.events, otlp.events):
        got = [(p.name, p.value, p.ts) for p in events if isinstance(p, MetricPoint)]
        assert got == [(p.name, p.value, p.ts) for p in base if isinstance(p, MetricPoint)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--per-request", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 series x 20 points, 3 rounds")
    args = parser.parse_args(argv)
    points, rounds = (20, 3) if args.quick else (args.points, args.rounds)
    samples = make_samples(args.series, points)
    check_same_points(samples, args.per_request)
    timed = paths(samples, args.per_request)
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits every path alike
        for name, fn in timed.items():
            times[name].append(time_once(fn, len(samples)))
    print(f"{platform.machine()} py{platform.python_version()} samples={len(samples)} "
          f"per_request={args.per_request} rounds={rounds} (median, one core)")  # fmt: skip
    base = statistics.median(times["baseline JSON records"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:<24} {len(samples) / median:>12,.0f} samples/s  "
              f"ratio {median / base:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
