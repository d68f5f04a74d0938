"""Soak: a fixed-rate run with ever more series offered, past the cardinality cap.

Two worker processes run side by side at the same fixed event rate on the same seeded stream:

* **baseline** - watermark -> metric detector, no cap (state grows with every series seen),
* **candidate** - watermark -> ``SeriesGuard`` (cap + idle eviction) -> metric detector, with
  evicted keys removed from the detector's per-series state (what the runtime does).

The stream has a stable core of series plus short-lived "churn" series (think pod names) born at
a steady pace, so by the end ``--overshoot`` times the cap distinct series have been offered.
Every ``--sample-s`` each worker reports RSS, throughput, lag (the worst time from a batch
being due on the fixed-rate schedule to it being processed) and live series. At the end it
prints RSS growth after warm-up for both and the candidate/baseline ratio of final RSS.
No dataset is read: the stream is synthetic and seeded (``--seed``).

    python -m benchmarks.soak                 # 10 minutes (the issue's target run)
    python -m benchmarks.soak --quick         # 1 minute, smaller numbers
    nice -n 10 python -m benchmarks.soak --minutes 10 --rate 2000 --cap 5000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from connectors.metrics import VigilMetrics
from engine.detect.cardinality import SeriesGuard
from engine.detect.metric import MetricDetector
from engine.events import MetricPoint
from engine.ingest.watermark import Sourced, WatermarkTracker, combined_watermark

TICK_S = 0.1
T0 = 1_764_115_200.0


@dataclass(frozen=True, slots=True)
class SoakConfig:
    minutes: float
    rate: int
    cap: int
    overshoot: float
    life_s: float
    idle_s: float
    sample_s: float
    seed: int

    @property
    def core(self) -> int:
        return self.cap // 2

    @property
    def births_per_s(self) -> float:
        return self.cap * self.overshoot / (self.minutes * 60.0)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def tick_batch(cfg: SoakConfig, rng: random.Random, tick: int) -> list[MetricPoint]:
    """The points of one tick: half from the core series, half from currently live churn ones."""
    ts = T0 + tick * TICK_S
    born = int(cfg.births_per_s * tick * TICK_S)
    alive_from = max(0, born - int(cfg.births_per_s * cfg.life_s))
    out = []
    for _ in range(int(cfg.rate * TICK_S)):
        if born == alive_from or rng.random() < 0.5:
            host = rng.randrange(cfg.core)
            labels = {"service": f"svc-{host % 50}", "host": f"core-{host}"}
        else:
            labels = {"service": "churn", "pod": f"pod-{rng.randrange(alive_from, born)}"}
        out.append(MetricPoint(ts, "latency_seconds", rng.gauss(0.2, 0.02), labels))
    return out


def forget(detector_state: Any, keys: list[str]) -> None:
    """Drop evicted series from the metric detector's state (its per-series dict)."""
    series = getattr(detector_state, "series", None)
    if isinstance(series, dict):
        for key in keys:
            series.pop(key, None)


def run_worker(cfg: SoakConfig, capped: bool) -> None:
    rng = random.Random(cfg.seed)
    tracker, detector = WatermarkTracker(allowed_lateness_s=30.0), MetricDetector()
    guard = SeriesGuard(max_series=cfg.cap, idle_s=cfg.idle_s)
    wm_state, det_state, guard_state = (
        tracker.initial_state(),
        detector.initial_state(),
        guard.initial_state(),
    )
    metrics = VigilMetrics()
    start = time.monotonic()
    ticks = int(cfg.minutes * 60 / TICK_S)
    done, next_sample, lag_s = 0, cfg.sample_s, 0.0
    for tick in range(ticks):
        due = start + tick * TICK_S
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        points = tick_batch(cfg, rng, tick)
        wall = time.time()
        wm_state, events = tracker.process(
            wm_state, [Sourced("metrics", p) for p in points], now=wall
        )
        batch = [e for e in events if isinstance(e, MetricPoint)]
        if capped:
            guard_state, guarded = guard.process(guard_state, batch, now=wall)
            forget(det_state, [e.key for e in guarded if not isinstance(e, MetricPoint)])
            batch = [e for e in guarded if isinstance(e, MetricPoint)]
            metrics.observe_guard("metrics", guard_state, cfg.cap)
        now = combined_watermark(wm_state, tracker, now=wall) or T0
        det_state, _ = detector.process(det_state, batch, now=now)
        done += len(points)
        lag_s = max(lag_s, time.monotonic() - due)  # batch due -> processed, worst this sample
        elapsed = time.monotonic() - start
        if elapsed >= next_sample or tick == ticks - 1:
            report(elapsed, done, lag_s, rss_bytes(), det_state, guard_state, cfg, tick)
            done, next_sample, lag_s = 0, next_sample + cfg.sample_s, 0.0


def report(
    elapsed: float,
    done: int,
    lag_s: float,
    rss: int,
    det: Any,
    guard: Any,
    cfg: SoakConfig,
    tick: int,
) -> None:
    offered = cfg.core + int(cfg.births_per_s * tick * TICK_S)
    live = len(getattr(det, "series", {}))
    row = {
        "t": round(elapsed),
        "events": done,
        "lag_s": round(lag_s, 3),
        "rss": rss,
        "live": live,
        "offered": offered,
        "dropped": guard.dropped,
        "evicted": guard.evicted,
    }
    print(json.dumps(row), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=int, default=2000, help="events per second (fixed)")
    p.add_argument("--cap", type=int, default=5000, help="max live series (candidate)")
    p.add_argument("--overshoot", type=float, default=10.0, help="series offered / cap by the end")
    p.add_argument("--life-s", type=float, default=30.0, help="event seconds a churn series lives")
    p.add_argument("--idle-s", type=float, default=30.0, help="idle eviction after (event time)")
    p.add_argument("--sample-s", type=float, default=30.0)
    p.add_argument("--warmup-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="1 minute, rate 1000, cap 2000, 5 s lives")
    p.add_argument("--role", choices=["baseline", "candidate"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.minutes, args.rate, args.cap, args.sample_s = 1.0, 1000, 2000, 5.0
        args.life_s, args.idle_s = 5.0, 5.0
    return args


def config_of(args: argparse.Namespace) -> SoakConfig:
    return SoakConfig(
        args.minutes,
        args.rate,
        args.cap,
        args.overshoot,
        args.life_s,
        args.idle_s,
        args.sample_s,
        args.seed,
    )


def spawn(role: str, argv: list[str]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "benchmarks.soak", *argv, "--role", role]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def summarize(rows: list[dict[str, Any]], warmup_fraction: float) -> dict[str, float]:
    warm = rows[max(0, int(len(rows) * warmup_fraction) - 1)]
    last = rows[-1]
    total_s = last["t"] or 1
    return {
        "warm_rss_mb": warm["rss"] / 2**20,
        "final_rss_mb": last["rss"] / 2**20,
        "growth_pct": 100.0 * (last["rss"] - warm["rss"]) / warm["rss"],
        "max_lag_s": max(r["lag_s"] for r in rows),
        "mean_eps": sum(r["events"] for r in rows) / total_s,
        "live": last["live"],
    }


MB = 2**20
HEADER = (
    f"{'t_s':>5} | {'offered':>7} | {'base rss MB':>11} {'eps':>6} {'lag s':>6} {'live':>7} |"
    f" {'cand rss MB':>11} {'eps':>6} {'lag s':>6} {'live':>6} {'dropped':>8} {'evicted':>8}"
)


def format_row(b: dict[str, Any], c: dict[str, Any], span_s: float) -> str:
    base = f"{b['rss'] / MB:>11.1f} {b['events'] / span_s:>6.0f} {b['lag_s']:>6.2f} {b['live']:>7}"
    cand = f"{c['rss'] / MB:>11.1f} {c['events'] / span_s:>6.0f} {c['lag_s']:>6.2f} {c['live']:>6}"
    return f"{c['t']:>5} | {c['offered']:>7} | {base} | {cand} {c['dropped']:>8} {c['evicted']:>8}"


def format_summary(name: str, s: dict[str, float]) -> str:
    return (
        f"{name}: rss after warm-up {s['warm_rss_mb']:.1f} MB -> final {s['final_rss_mb']:.1f} MB"
        f" (growth {s['growth_pct']:+.1f}%), mean {s['mean_eps']:.0f} events/s,"
        f" max lag {s['max_lag_s']:.2f} s, live series {s['live']:.0f}"
    )


def child_argv(cfg: SoakConfig) -> list[str]:
    return [
        *("--minutes", str(cfg.minutes), "--rate", str(cfg.rate), "--cap", str(cfg.cap)),
        *("--overshoot", str(cfg.overshoot), "--life-s", str(cfg.life_s)),
        *("--idle-s", str(cfg.idle_s), "--sample-s", str(cfg.sample_s), "--seed", str(cfg.seed)),
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = config_of(args)
    if args.role:
        run_worker(cfg, capped=args.role == "candidate")
        return
    print(
        f"{platform.machine()} py{platform.python_version()} cpus={os.cpu_count()}"
        f" minutes={cfg.minutes} rate={cfg.rate}/s cap={cfg.cap} core={cfg.core}"
        f" offered_by_end={cfg.core + int(cfg.cap * cfg.overshoot)} life_s={cfg.life_s}"
        f" idle_s={cfg.idle_s}"
    )
    procs = [spawn(role, child_argv(cfg)) for role in ("baseline", "candidate")]
    rows: list[list[dict[str, Any]]] = [[], []]
    print(HEADER)
    outs = [p.stdout for p in procs]
    assert outs[0] is not None
    assert outs[1] is not None
    for base_line, cand_line in zip(outs[0], outs[1], strict=False):
        b, c = json.loads(base_line), json.loads(cand_line)
        rows[0].append(b)
        rows[1].append(c)
        print(format_row(b, c, cfg.sample_s), flush=True)
    for proc in procs:
        proc.wait()
    base = summarize(rows[0], args.warmup_fraction)
    cand = summarize(rows[1], args.warmup_fraction)
    print(format_summary("baseline ", base))
    print(format_summary("candidate", cand))
    print(
        f"final rss ratio candidate/baseline {cand['final_rss_mb'] / base['final_rss_mb']:.2f}x;"
        f" candidate growth after warm-up {cand['growth_pct']:+.1f}% (target < 10%)"
    )


if __name__ == "__main__":
    main()
