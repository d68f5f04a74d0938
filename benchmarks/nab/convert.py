"""Converts public labelled corpora of operational series to NAB layout.

``python -m benchmarks.nab.convert --source DIR --out /work/data``
(``--hourly NAME=DIR``, repeatable, also writes ``NAME-1h``: a corpus in NAB layout rolled up to
clock hours, ``benchmarks.nab.hourly``; ``--source`` may then be left out).

``DIR`` is a git directory (or a work tree) of the public repository ``zhhlee/InterFusion``
(MIT licence), whose ``data/processed`` holds two corpora of real operational series as pickled
numpy arrays, small enough to be fetched one file at a time:

- ``smd``: the Server Machine Dataset (NetManAIOps/OmniAnomaly; 1-min metrics of the machines
  of a large Internet company: CPU, memory, disk, network, TCP counters);
- ``asd``: the Application Server Dataset (InterFusion; 5-min metrics of application servers).

Both label anomalies per machine, and ``data/interpretation_label/<machine>.txt`` names the
metrics each anomaly shows in (``start-end:dim,dim,...``, 1-based dims, test rows). Each
metric named at least once becomes one univariate NAB series ``<corpus>-<machine>/<dim>.csv``
whose label windows are the anomalies that name it. Metrics never named are left out (their
machine's anomalies may still show in them, so they are not clean either). Each series starts
with the last ``--warm-days`` of its training part (unlabelled, mostly normal) so NAB's
probation (the first 15% of rows, at most 750) does not swallow test-part anomalies.
Timestamps are synthetic (the corpora have none): a fixed start at midnight UTC, the corpus's
sampling interval apart, so daily cycles keep their phase.

Pickles are read with an unpickler that allows only numpy's array reconstruction.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

START = datetime(2020, 1, 6, tzinfo=UTC).timestamp()
CORPORA = {"smd": ("machine-", 60.0, 5), "asd": ("omi-", 300.0, 1)}
"""Corpus -> (machine name prefix, sampling interval in seconds, rows rolled up into one).
SMD's 1-min rows are rolled up to 5-min means (as a metrics store's rollup would): 1.2 million
points rather than 6.2 million keeps a run of all detectors within minutes on a shared machine."""
PROFILES = {
    "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11,
                                "tnWeight": 1.0}},
    "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22,
                                          "tnWeight": 1.0}},
    "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11,
                                          "tnWeight": 1.0}},
}
"""NAB v1.1's three profiles (config/profiles.json)."""
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype"),
            ("numpy._core.multiarray", "_reconstruct")}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name}")
        return super().find_class(module, name)


class Source:
    """Reads files of the repository from a work tree or, failing that, its git directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes:
        if (self.root / path).exists():
            return (self.root / path).read_bytes()
        return subprocess.run(["git", f"--git-dir={self._git_dir()}", "show", f"HEAD:{path}"],
                              check=True, capture_output=True).stdout

    def names(self, folder: str) -> list[str]:
        if (self.root / folder).is_dir():
            return sorted(p.name for p in (self.root / folder).iterdir())
        out = subprocess.run(["git", f"--git-dir={self._git_dir()}", "ls-tree", "--name-only",
                              f"HEAD:{folder}"], check=True, capture_output=True, text=True)
        return sorted(out.stdout.split())

    def array(self, path: str) -> np.ndarray:
        return np.asarray(_ArrayUnpickler(io.BytesIO(self.read(path))).load(), dtype=float)

    def _git_dir(self) -> Path:
        return self.root / ".git" if (self.root / ".git").is_dir() else self.root


def rolled_up(rows: np.ndarray, k: int) -> np.ndarray:
    """Means of each ``k`` consecutive rows (a trailing partial group is dropped)."""
    if k == 1:
        return rows
    n = len(rows) // k * k
    return rows[:n].reshape(n // k, k, -1).mean(axis=1)


def windows_by_dim(text: str, k: int = 1) -> dict[int, list[tuple[int, int]]]:
    """``start-end:d1,d2`` lines -> 0-based dim -> merged, sorted (start, end) test rows,
    rows rolled up ``k`` to one.

    >>> windows_by_dim("5-9:1,2\\n8-12:2\\n")
    {0: [(5, 9)], 1: [(5, 12)]}
    >>> windows_by_dim("5-9:1\\n", 5)
    {0: [(1, 1)]}
    """
    raw: dict[int, list[tuple[int, int]]] = {}
    for line in text.split():
        span, dims = line.split(":")
        start, end = (int(v) // k for v in span.split("-"))
        for dim in dims.split(","):
            raw.setdefault(int(dim) - 1, []).append((start, end))
    merged: dict[int, list[tuple[int, int]]] = {}
    for dim, spans in sorted(raw.items()):
        out: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if out and start <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[dim] = out
    return merged


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def convert(source: Source, out: Path, warm_days: float) -> dict[str, int]:
    """Write every corpus under ``out/<corpus>``; the number of series written per corpus."""
    counts = {}
    for corpus, (prefix, step, rollup) in CORPORA.items():
        root = out / corpus
        windows: dict[str, list[list[str]]] = {}
        machines = [n[:-len("_test.pkl")] for n in source.names("data/processed")
                    if n.startswith(prefix) and n.endswith("_test.pkl")]
        for machine in machines:
            try:
                test = rolled_up(source.array(f"data/processed/{machine}_test.pkl"), rollup)
                train = rolled_up(source.array(f"data/processed/{machine}_train.pkl"), rollup)
            except subprocess.CalledProcessError:  # a file the snapshot lacks (>= 4 MiB)
                continue
            warm = train[-int(warm_days * 86_400 / (step * rollup)):]
            labels = source.read(f"data/interpretation_label/{machine}.txt").decode()
            for dim, spans in windows_by_dim(labels, rollup).items():
                values = np.concatenate([warm[:, dim], test[:, dim]])
                if np.ptp(test[:, dim]) == 0.0:
                    continue
                name = f"{corpus}-{machine}/{corpus}_{machine}_d{dim + 1:02d}.csv"
                stamps = [_stamp(START + step * rollup * i) for i in range(len(values))]
                path = root / "data" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("timestamp,value\n" + "".join(
                    f"{s},{v!r}\n" for s, v in zip(stamps, values.tolist(), strict=True)))
                shift = len(warm)
                windows[name] = [[stamps[shift + a], stamps[min(shift + b, len(stamps) - 1)]]
                                 for a, b in spans if shift + a < len(stamps)]
        (root / "labels").mkdir(parents=True, exist_ok=True)
        (root / "labels" / "combined_windows.json").write_text(json.dumps(windows, indent=1))
        (root / "config").mkdir(parents=True, exist_ok=True)
        (root / "config" / "profiles.json").write_text(json.dumps(PROFILES, indent=1))
        counts[corpus] = len(windows)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab.convert")
    parser.add_argument("--source", type=Path,
                        help="git directory or work tree of zhhlee/InterFusion")
    parser.add_argument("--hourly", action="append", default=[], metavar="NAME=DIR",
                        help="also write OUT/NAME-1h: corpus DIR (NAB layout) rolled up to hours")
    parser.add_argument("--out", type=Path, default=Path("/work/data"))
    parser.add_argument("--warm-days", type=float, default=2.0)
    args = parser.parse_args()
    if args.source is not None:
        for corpus, n in convert(Source(args.source), args.out, args.warm_days).items():
            print(f"{corpus}: {n} series -> {args.out / corpus}")
    for spec in args.hourly:
        from benchmarks.nab.hourly import write_hourly

        name, _, folder = spec.partition("=")
        n = write_hourly(Path(folder), args.out / f"{name}-1h")
        print(f"{name}-1h: {n} series -> {args.out / f'{name}-1h'}")


if __name__ == "__main__":
    main()
