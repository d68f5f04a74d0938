"""Run: python -m benchmarks.loghub [--data DIR] [--out DIR] [--quick] [--only HDFS,Mac]."""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import statistics
import time

from benchmarks.loghub.accuracy import grouping_accuracy, read_labels
from benchmarks.loghub.parsers import ParseResult, preprocess, run_drain3, run_vigil
from benchmarks.loghub.settings import SETTINGS, read_contents

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# ../shared/datasets beside the repository (a worktree sits one level deeper)
DEFAULT_DATA = next(
    (
        p
        for p in (
            os.path.join(_ROOT, "..", "shared", "datasets", "loghub2k"),
            os.path.join(_ROOT, "..", "..", "shared", "datasets", "loghub2k"),
        )
        if os.path.isdir(p)
    ),
    os.path.join(_ROOT, "..", "shared", "datasets", "loghub2k"),
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loghub")
    parser.add_argument("--data", default=DEFAULT_DATA, help="loghub2k folder")
    parser.add_argument("--out", help="write <System>.csv (LineId,EventTemplate) here")
    parser.add_argument("--quick", action="store_true", help="100k-line stream instead of 1M")
    parser.add_argument("--only", help="comma-separated systems")
    parser.add_argument("--no-stream", action="store_true", help="skip the HDFS stream")
    args = parser.parse_args()
    systems = args.only.split(",") if args.only else list(SETTINGS)
    print(f"{platform.machine()} {platform.python_implementation()} py{platform.python_version()}")
    run_accuracy(args.data, systems, args.out)
    if not args.no_stream:
        from benchmarks.loghub.stream import run_stream

        run_stream(args.data, 100_000 if args.quick else 1_000_000)


def run_accuracy(data: str, systems: list[str], out: str | None) -> None:
    print(
        f"{'system':<12} {'drain3':>7} {'vigil':>7} {'drain3':>7} {'vigil':>7} "
        f"{'tpl':>5} {'tpl':>5}"
    )
    print(f"{'':<12} {'(corrected GA)':>15} {'(original GA)':>15} {'drain3/vigil':>11}")
    rows, lines = [], 0
    seconds = {"drain3": 0.0, "vigil": 0.0, "preprocess": 0.0}
    for system in systems:
        setting = SETTINGS[system]
        folder = os.path.join(data, system)
        contents = read_contents(os.path.join(folder, f"{system}_2k.log"), setting.log_format)
        corrected = read_labels(
            os.path.join(folder, f"{system}_2k.log_structured_corrected.csv"), "EventTemplate"
        )
        original = read_labels(os.path.join(folder, f"{system}_2k.log_structured.csv"), "EventId")
        start = time.perf_counter()
        contents = preprocess(contents, [re.compile(rx) for rx in setting.regexes])
        seconds["preprocess"] += time.perf_counter() - start
        # interleave baseline and candidate three times each and keep the fastest of each;
        # every run starts from fresh state (Vigil's masking memos live in its fresh miner)
        base_runs, cand_runs = [], []
        for _ in range(3):
            base_runs.append(run_drain3(contents, setting, preprocessed=True))
            cand_runs.append(run_vigil(contents, setting, preprocessed=True))
        base, cand = base_runs[-1], cand_runs[-1]
        seconds["drain3"] += min(r.seconds for r in base_runs)
        seconds["vigil"] += min(r.seconds for r in cand_runs)
        lines += len(contents)
        row = (
            grouping_accuracy(base.group_of_line, corrected),
            grouping_accuracy(cand.group_of_line, corrected),
            grouping_accuracy(base.group_of_line, original),
            grouping_accuracy(cand.group_of_line, original),
        )
        rows.append(row)
        print(
            f"{system:<12} {row[0]:7.3f} {row[1]:7.3f} {row[2]:7.3f} {row[3]:7.3f} "
            f"{len(set(base.group_of_line)):5d} {len(set(cand.group_of_line)):5d}"
        )
        if out:
            write_templates(out, system, cand)
    means = [statistics.fmean(col) for col in zip(*rows, strict=True)]
    print(f"{'mean':<12} {means[0]:7.3f} {means[1]:7.3f} {means[2]:7.3f} {means[3]:7.3f}")
    below = [s for s, r in zip(systems, rows, strict=True) if r[1] < r[0]]
    print(f"systems where vigil < drain3 (corrected): {', '.join(below) or 'none'}")
    base_rate, cand_rate = lines / seconds["drain3"], lines / seconds["vigil"]
    print(
        f"lines/s parsing ({lines} lines; Vigil's masking included, the shared dataset "
        f"regexes not): drain3 {base_rate:,.0f}  vigil {cand_rate:,.0f}  "
        f"ratio {cand_rate / base_rate:.2f}x"
    )
    pre = seconds["preprocess"]
    base_all, cand_all = lines / (seconds["drain3"] + pre), lines / (seconds["vigil"] + pre)
    print(
        f"lines/s end to end (plus {pre:.3f} s of shared dataset regexes): "
        f"drain3 {base_all:,.0f}  vigil {cand_all:,.0f}  ratio {cand_all / base_all:.2f}x"
    )


def write_templates(out: str, system: str, result: ParseResult) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{system}.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["LineId", "EventTemplate"])
        for line_id, group in enumerate(result.group_of_line, start=1):
            writer.writerow([line_id, result.template_of_group[group]])


if __name__ == "__main__":
    main()
