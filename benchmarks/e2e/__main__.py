"""python -m benchmarks.e2e [--quick|--full] [--data DIR]: raw telemetry through ``vigil replay``.

Generated streams (benchmarks/e2e/generate.py) for the tuned-on and the held-out seeds (fixed in
benchmarks/e2e/cases.py, both printed every run), and with ``--data`` a real RCA dataset
converted to replay folders (benchmarks/e2e/real.py). Each stream is written as a replay folder
and run through the same code path as ``vigil replay`` with the shipped rules (Slack and
PagerDuty routes enabled); its anomalies, incidents and decided actions are scored
(benchmarks/e2e/score.py) next to baselines from the same inputs (benchmarks/e2e/baselines.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.e2e.cases import HELD_OUT, TUNED_ON, generated_case, plan
from benchmarks.e2e.generate import Knobs
from benchmarks.e2e.report import Split, print_split
from benchmarks.e2e.run import bench_rules, run_folder, write_folder
from benchmarks.e2e.truth import Case

SIZES = {"quick": (3, 1), "default": (8, 2), "full": (20, 5)}
"""Ordinary streams and streams per hard mode, per split."""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.e2e")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 ordinary + 1 per hard mode")
    size.add_argument("--full", action="store_true", help="20 ordinary + 5 per hard mode")
    parser.add_argument("--split", choices=("tuned", "held-out", "both"), default="both")
    parser.add_argument("--data", type=Path, help="a real dataset folder (see README)")
    parser.add_argument("--keep", type=Path, help="keep replay folders and outputs here")
    for knob in ("hours", "services", "noise", "background_errors", "blips_per_series_day"):
        parser.add_argument(
            f"--{knob.replace('_', '-')}",
            nargs=2,
            type=float,
            metavar=("LO", "HI"),
            help=f"generator range (default {getattr(Knobs(), knob)})",
        )
    args = parser.parse_args()
    knobs = _knobs(args)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    ordinary, per_hard = SIZES["quick" if args.quick else "full" if args.full else "default"]
    print(
        f"{platform.machine()} py{platform.python_version()}  "
        f"tuned-on seeds {TUNED_ON.start}..{TUNED_ON.stop - 1}, "
        f"held-out seeds {HELD_OUT.start}..{HELD_OUT.stop - 1}; "
        f"per split {ordinary} ordinary + {per_hard} per hard mode"
    )
    splits = {"tuned": ("tuned-on", TUNED_ON), "held-out": ("held-out", HELD_OUT)}
    chosen = list(splits) if args.split == "both" else [args.split]
    for key in chosen:
        label, seeds = splits[key]
        cases = (generated_case(s, m, knobs) for s, m in plan(seeds, ordinary, per_hard))
        print_split(run_split(label, cases, args.keep))
    if args.data is not None:
        from benchmarks.e2e.real import load_cases

        print_split(run_split(f"real: {args.data.name}", load_cases(args.data), args.keep))


def _knobs(args: argparse.Namespace) -> Knobs:
    """The default generator ranges, with any given on the command line."""
    changed = {}
    for name in ("hours", "services", "noise", "background_errors", "blips_per_series_day"):
        given = getattr(args, name)
        if given is not None:
            changed[name] = (int(given[0]), int(given[1])) if name == "services" else tuple(given)
    knobs = dataclasses.replace(Knobs(), **changed)
    if changed:
        print(f"generator knobs changed: {changed}")
    return knobs


def run_split(label: str, cases: object, keep: Path | None) -> Split:
    split = Split(label)
    rules = bench_rules()
    started = time.perf_counter()
    for case in cases:  # type: ignore[attr-defined]
        assert isinstance(case, Case)
        split.add(case, run_case(case, rules, keep))
    split.elapsed_s = time.perf_counter() - started
    return split


def run_case(case: Case, rules: object, keep: Path | None) -> object:
    base = Path(tempfile.mkdtemp(prefix="vigil-e2e-")) if keep is None else keep / case.name
    try:
        write_folder(base / "in", case.topology, case.records)
        return run_folder(base / "in", base / "out", rules)  # type: ignore[arg-type]
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
