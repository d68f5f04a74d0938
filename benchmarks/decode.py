"""Throughput of ``decode_record`` for single metric records, beside a plain ``orjson.loads``.

The baseline is the JSON parse alone; the candidate is the whole decode (parse, validation,
typed ``MetricPoint``), so the ratio is what validation and typing cost on the Kafka hot path.
Records are synthetic (fixed seed); no dataset is needed, ``--data`` is accepted for symmetry
with the other benchmarks and ignored.

    python -m benchmarks.decode [--records 100000] [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from collections.abc import Callable

import orjson

from engine.events import InputKind
from engine.ingest.decode import Origin, decode_record


def make_records(count: int, seed: int = 7) -> list[bytes]:
    """Metric records shaped like the wire contract's example, with varied values and labels."""
    rng = random.Random(seed)
    services = [f"svc-{i}" for i in range(20)]
    hosts = [f"node-{i}" for i in range(6)]
    return [
        orjson.dumps(
            {
                "ts": 1_764_115_200 + i * 0.5,
                "name": rng.choice(["http_request_duration_p99_seconds", "cpu_usage_ratio"]),
                "value": rng.lognormvariate(-1.5, 0.5),
                "labels": {
                    "service": rng.choice(services),
                    "host": rng.choice(hosts),
                    "cluster": "eu-1",
                },
            }
        )
        for i in range(count)
    ]


def time_once(fn: Callable[[bytes], object], records: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in records:
        fn(raw)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20k records, 3 rounds")
    parser.add_argument("--data", help="unused: the input is synthetic")
    args = parser.parse_args(argv)
    count, rounds = (20_000, 3) if args.quick else (args.records, args.rounds)
    records = make_records(count)
    origin = Origin("metrics", partition=0, offset=0, timestamp=1_764_115_200.0)

    def candidate(raw: bytes) -> object:
        return decode_record(InputKind.METRICS, raw, origin)

    assert all(len(candidate(r)) == 1 for r in records[:100])
    base, cand = [], []
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
        base.append(time_once(orjson.loads, records))
        cand.append(time_once(candidate, records))
    b, c = statistics.median(base), statistics.median(cand)
    print(f"{platform.machine()} {platform.processor() or ''} py{platform.python_version()} "
          f"orjson {orjson.__version__} records={count} rounds={rounds}")  # fmt: skip
    for label, seconds in (("baseline  orjson.loads ", b), ("candidate decode_record", c)):
        print(f"{label} {count / seconds:>12,.0f} records/s ({seconds * 1e9 / count:.0f} ns each)")
    print(f"ratio {c / b:.2f}x (candidate time / baseline time; >1 means slower)")


if __name__ == "__main__":
    main()
