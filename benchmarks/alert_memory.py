"""Per-alert cost of the incident stage's alert memory against the number of distinct alerts.

A label with many distinct values (or a token holder posting alerts) makes every alert a new
fingerprint. Before, every step of the correlator scanned every remembered fingerprint for
expiry (``forget_alerts``) and the reorder slot took the minimum over every remembered alert
key per batch: per-alert cost grew with the number of alerts (2,000 / 4,000 / 8,000 alerts took
0.5 / 1.6 / 6.4 s through the incident stage). Now both are indexed by last-seen time
(``engine.correlate.alerts.RecentKeys``) and capped.

Each size runs distinct firing alerts, one every 50 ms of event time (1M span ~14 h, inside the
24 h memory), through:

* ``correlate``: what ``Correlator`` does per alert, ``forget_alerts`` at its ts then
  ``observe_alert`` (default cap: 100k fingerprints, the rest evicted and counted);
* ``uncapped``: the same with the cap above the size (the index alone);
* ``reorder``: ``EventReorder.process`` in batches of ``REORDER_BATCH`` (a worker's incident
  task gets a few records per poll), the watermark at each batch's end.

The baseline is the previous algorithm (a scan per step, a ``min`` over the keys per batch),
copied below, run in the same process at small sizes only (it is quadratic). The figure to
read is per-alert microseconds: flat across sizes for the candidate.

    python -m benchmarks.alert_memory [--sizes 10000,100000,1000000] [--quick]

``--stage`` times the whole incident stage instead (``Pipeline.from_rules(RuleSet())``:
reorder, correlate, rank, act, retrain) on distinct firing alerts, one per second of event
time, ``CHUNK`` alerts per ``process`` call with the watermark at the chunk's end, in two
shapes: ``spread`` over ``SERVICES`` services and ``one`` service (one incident that keeps
growing). Every record of an incident lists all its members, so re-emitting it per new alert
made the stage quadratic (2k / 4k alerts on one service: 9.1 / 39.4 CPU s); the baseline is
that previous rule (``full_report_members`` above the size), the candidate the default (one
record per 1/16 of growth past 256 members). Sizes default to 2k..16k (baseline up to 4k).
``burst`` is ``one`` at 20 alerts per second: the incident stays unconfirmed for its first
``confirm_s`` (300 s, 6,000 alerts); every step used to scan all its alerts for a loud one
(``engine.correlate.confirmation.is_confirmed``), quadratic up to rate x confirm_s; a candidate
younger than ``confirm_s`` is no longer scanned (none of its alerts can have fired that long).
That change applies to baseline and candidate alike (the baseline only restores the report
rule); its before/after is in the commit that made it. Per-alert cost left in ``spread`` grows
with the open incidents, not the alerts: each member scans every open incident
(``Placement._candidates``) and each step every incident (``Correlator._advance``).

    python -m benchmarks.alert_memory --stage [--sizes 2000,4000,8000,16000]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from engine.correlate.alerts import AlertBook, AlertPolicy, forget_alerts, observe_alert
from engine.correlate.reorder import EventReorder, event_key
from engine.events import Alert, AlertStatus, Severity
from engine.pipeline import IncidentStage, Pipeline
from engine.rules import RuleSet

T0 = 1_764_115_200.0
STEP_S = 0.05
CHUNK = 500
REORDER_BATCH = 10
BASELINE_SIZES = (2_000, 4_000, 8_000)
SERVICES = 200
STAGE_SIZES = (2_000, 4_000, 8_000, 16_000)
STAGE_BASELINE_SIZES = (1_000, 2_000, 4_000)


def alerts(count: int) -> Iterator[list[Alert]]:
    """Distinct firing alerts in chunks (built outside the timed part)."""
    for start in range(0, count, CHUNK):
        yield [
            Alert(T0 + i * STEP_S, "Spam", AlertStatus.FIRING, Severity.WARNING, f"fp{i:08d}",
                  {"service": "api", "request_id": str(i)})
            for i in range(start, min(count, start + CHUNK))
        ]  # fmt: skip


def timed(count: int, run: Callable[[list[Alert]], None]) -> float:
    """CPU seconds spent in ``run`` over every chunk of ``count`` alerts (CPU time, not wall
    time: the machine may be shared)."""
    spent = 0.0
    for chunk in alerts(count):
        started = time.process_time()
        run(chunk)
        spent += time.process_time() - started
    return spent


def correlate(count: int, policy: AlertPolicy) -> tuple[float, int, int]:
    book = AlertBook()

    def run(chunk: list[Alert]) -> None:
        for alert in chunk:
            forget_alerts(book, alert.ts, policy)
            observe_alert(book, alert, policy)

    return timed(count, run), len(book), book.evicted


def reorder(count: int) -> tuple[float, int, int]:
    op = EventReorder()
    state = op.initial_state()

    def run(chunk: list[Alert]) -> None:
        nonlocal state
        for i in range(0, len(chunk), REORDER_BATCH):
            batch = chunk[i : i + REORDER_BATCH]
            state, _ = op.process(state, batch, now=batch[-1].ts)

    return timed(count, run), len(state.alerts), state.alerts_evicted


# -- the previous algorithm (baseline) ---------------------------------------------------------


def old_correlate(count: int, policy: AlertPolicy) -> tuple[float, int, int]:
    book: dict[str, dict[str, Any]] = {}

    def run(chunk: list[Alert]) -> None:
        for alert in chunk:
            stale = [fp for fp, t in book.items() if alert.ts - t["last_ts"] > policy.ttl_s]
            for fp in stale:
                del book[fp]
            if alert.fingerprint not in book:
                book[alert.fingerprint] = {
                    "firing": True, "first_ts": alert.ts, "last_ts": alert.ts, "flips": []
                }  # fmt: skip

    return timed(count, run), len(book), 0


def old_reorder(count: int, horizon_s: float = 86400.0) -> tuple[float, int, int]:
    keys: dict[str, float] = {}

    def run(chunk: list[Alert]) -> None:
        nonlocal keys
        for i in range(0, len(chunk), REORDER_BATCH):
            batch = chunk[i : i + REORDER_BATCH]
            now = batch[-1].ts
            for alert in batch:
                body = {"fingerprint": alert.fingerprint, "status": "firing", "ts": alert.ts}
                keys[event_key("alert", body)] = now
            if keys and min(keys.values()) < now - horizon_s:
                keys = {k: t for k, t in keys.items() if t >= now - horizon_s}

    return timed(count, run), len(keys), 0


# -- the whole incident stage ------------------------------------------------------------------


def stage_chunks(count: int, services: int, step_s: float) -> Iterator[list[Alert]]:
    for start in range(0, count, CHUNK):
        yield [
            Alert(T0 + i * step_s, "Spam", AlertStatus.FIRING, Severity.WARNING, f"fp{i:08d}",
                  {"service": f"svc{i % services:03d}", "request_id": str(i)})
            for i in range(start, min(count, start + CHUNK))
        ]  # fmt: skip


def stage(
    count: int, services: int, full_report: int | None, step_s: float = 1.0
) -> tuple[float, int]:
    """CPU seconds of ``IncidentStage.process`` over ``count`` alerts, and its outputs."""
    stage_op: IncidentStage = Pipeline.from_rules(RuleSet()).incident
    if full_report is not None:
        correlator = replace(stage_op.correlator, full_report_members=full_report)
        stage_op = replace(stage_op, correlator=correlator)
    state, spent, outputs = stage_op.initial_state(), 0.0, 0
    for chunk in stage_chunks(count, services, step_s):
        started = time.process_time()
        state, out = stage_op.process(state, chunk, now=chunk[-1].ts)
        spent += time.process_time() - started
        outputs += len(out)
    return spent, outputs


def main_stage(sizes: list[int]) -> None:
    print(f"{platform.machine()} py{platform.python_version()} incident stage, sizes={sizes}"
          f" one alert per second (burst: per {STEP_S} s), {CHUNK} per call")  # fmt: skip
    print(f"{'':28} {'alerts':>9} {'us/alert':>9} {'outputs':>8}")
    for shape, services, step_s in [
        ("spread", SERVICES, 1.0),
        ("one", 1, 1.0),
        ("burst", 1, STEP_S),
    ]:
        runs: list[tuple[str, int | None, list[int]]] = [
            (f"baseline  {shape}", 10**9, [*STAGE_BASELINE_SIZES]),
            (f"candidate {shape}", None, sizes),
        ]
        for label, full_report, counts in runs:
            per_alert = []
            for n in counts:
                seconds, outputs = stage(n, services, full_report, step_s)
                per_alert.append(seconds * 1e6 / n)
                print(f"{label:28} {n:>9,} {per_alert[-1]:>9.1f} {outputs:>8,}", flush=True)
            print(f"{label:28} per-alert cost, largest / smallest size: "
                  f"{per_alert[-1] / per_alert[0]:.2f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="default 10k,100k,1M (--stage: 2k..16k)")
    parser.add_argument("--quick", action="store_true", help="sizes 10k and 100k")
    parser.add_argument("--stage", action="store_true", help="the whole incident stage")
    args = parser.parse_args(argv)
    if args.stage:
        main_stage([int(s) for s in args.sizes.split(",")] if args.sizes else [*STAGE_SIZES])
        return
    sizes = [int(s) for s in (args.sizes or "10000,100000,1000000").split(",")]
    sizes = [10_000, 100_000] if args.quick else sizes
    print(f"{platform.machine()} py{platform.python_version()} sizes={sizes}"
          f" one alert per {STEP_S}s of event time")  # fmt: skip
    print(f"{'':28} {'alerts':>9} {'us/alert':>9} {'kept':>8} {'evicted':>8}")
    rows: dict[str, list[float]] = {}
    runs: list[tuple[str, Callable[[int], tuple[float, int, int]], list[int]]] = [
        ("baseline  old correlate", lambda n: old_correlate(n, AlertPolicy()), [*BASELINE_SIZES]),
        ("baseline  old reorder keys", old_reorder, [*BASELINE_SIZES]),
        ("candidate correlate", lambda n: correlate(n, AlertPolicy()), sizes),
        ("candidate correlate uncapped",
         lambda n: correlate(n, AlertPolicy(max_alerts=n + 1)), sizes),
        ("candidate reorder", reorder, sizes),
    ]  # fmt: skip
    for label, run, counts in runs:
        for n in counts:
            seconds, kept, evicted = run(n)
            rows.setdefault(label, []).append(seconds * 1e6 / n)
            print(f"{label:28} {n:>9,} {seconds * 1e6 / n:>9.2f} {kept:>8,} {evicted:>8,}")
    for label, per_alert in rows.items():
        print(f"{label:28} per-alert cost, largest / smallest size: "
              f"{per_alert[-1] / per_alert[0]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
