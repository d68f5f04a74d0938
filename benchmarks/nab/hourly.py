"""Hourly rollups of a corpus in NAB layout: the production shape of coarse, short series.

``python -m benchmarks.nab.convert --hourly NAME=DIR --out /work/data`` writes
``/work/data/NAME-1h``: every series of ``DIR`` rolled up to one row per clock hour, as a
metrics store's 1-h rollup would: integer, non-negative series (counts) are summed per hour,
others averaged. An hour with fewer rows than a full one (a gap) has its sum scaled up to a
full hour and rounded, so a gap is not a drop in the count. The first and last hours are kept
only when full. Series already at 1 h or coarser are copied unchanged. A label window becomes
the hours it touches. Series with fewer than ``MIN_HOURS`` hours are left out.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from benchmarks.nab.convert import PROFILES
from benchmarks.nab.corpus import DataFile, load_corpus

HOUR_S = 3600.0
MIN_HOURS = 100


def rollup(data: DataFile) -> tuple[list[float], list[float]] | None:
    """(hour start times, values) of one series, or ``None`` when it is too short.

    >>> from benchmarks.nab.scorer import LabelledFile
    >>> ts = [600.0 * i for i in range(6 * 200)]
    >>> f = DataFile("c/x.csv", [], ts, [float(i % 2) for i in range(1200)],
    ...              LabelledFile("c/x.csv", 1200, ()))
    >>> hours, values = rollup(f)
    >>> len(hours), values[:2]
    (200, [3.0, 3.0])
    """
    steps = [b - a for a, b in zip(data.ts_s, data.ts_s[1:], strict=False) if b > a]
    step = statistics.median(steps) if steps else HOUR_S
    if step >= HOUR_S:
        pairs = list(zip(data.ts_s, data.values, strict=True))
    else:
        full = round(HOUR_S / step)
        counts = all(v >= 0.0 and v == int(v) for v in data.values)
        buckets: dict[float, list[float]] = {}
        for t, v in zip(data.ts_s, data.values, strict=True):
            buckets.setdefault(t - t % HOUR_S, []).append(v)
        keys = sorted(buckets)
        if keys and len(buckets[keys[0]]) < full:
            keys = keys[1:]
        if keys and len(buckets[keys[-1]]) < full:
            keys = keys[:-1]
        pairs = []
        for key in keys:
            rows = buckets[key]
            value = (round(sum(rows) * full / len(rows)) if counts
                     else sum(rows) / len(rows))
            pairs.append((key, float(value)))
    if len(pairs) < MIN_HOURS:
        return None
    return [t for t, _ in pairs], [v for _, v in pairs]


def _stamp(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_hourly(source: Path, out: Path) -> int:
    """Roll every series of the corpus at ``source`` up to hours under ``out``; the number
    of series written."""
    windows: dict[str, list[list[str]]] = {}
    for data in load_corpus(source):
        rolled = rollup(data)
        if rolled is None:
            continue
        hours, values = rolled
        stamps = [_stamp(t) for t in hours]
        spans = []
        for a, b in data.labels.windows:
            lo, hi = data.ts_s[a] - data.ts_s[a] % HOUR_S, data.ts_s[b]
            inside = [i for i, t in enumerate(hours) if lo <= t <= hi]
            if inside:
                spans.append([stamps[inside[0]], stamps[inside[-1]]])
        path = out / "data" / data.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("timestamp,value\n" + "".join(
            f"{s},{v!r}\n" for s, v in zip(stamps, values, strict=True)))
        windows[data.name] = spans
    (out / "labels").mkdir(parents=True, exist_ok=True)
    (out / "labels" / "combined_windows.json").write_text(json.dumps(windows, indent=1))
    (out / "config").mkdir(parents=True, exist_ok=True)
    (out / "config" / "profiles.json").write_text(json.dumps(PROFILES, indent=1))
    return len(windows)
