"""Run: python -m benchmarks.loghub [--data DIR] [--out DIR] [--quick] [--only HDFS,Mac]."""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics

from benchmarks.loghub.accuracy import grouping_accuracy, read_labels
from benchmarks.loghub.parsers import ParseResult
from benchmarks.loghub.settings import SETTINGS, read_contents
from benchmarks.loghub.speed import print_rounds, time_rounds

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
    parser.add_argument("--rounds", type=int, help="interleaved speed rounds (9; --quick: 3)")
    args = parser.parse_args()
    systems = args.only.split(",") if args.only else list(SETTINGS)
    print(f"{platform.machine()} {platform.python_implementation()} py{platform.python_version()} "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    rounds = args.rounds or (3 if args.quick else 9)
    run_accuracy(args.data, systems, args.out, rounds)
    if not args.no_stream:
        from benchmarks.loghub.stream import run_stream

        run_stream(args.data, 100_000 if args.quick else 1_000_000)


def run_accuracy(data: str, systems: list[str], out: str | None, rounds: int) -> None:
    inputs, labels = [], {}
    for system in systems:
        setting = SETTINGS[system]
        folder = os.path.join(data, system)
        raw = read_contents(os.path.join(folder, f"{system}_2k.log"), setting.log_format)
        inputs.append((system, setting, raw))
        labels[system] = (
            read_labels(os.path.join(folder, f"{system}_2k.log_structured_corrected.csv"),
                        "EventTemplate"),
            read_labels(os.path.join(folder, f"{system}_2k.log_structured.csv"), "EventId"),
        )
    timing, results = time_rounds(inputs, rounds)
    print(
        f"{'system':<12} {'drain3':>7} {'vigil':>7} {'drain3':>7} {'vigil':>7} "
        f"{'tpl':>5} {'tpl':>5}"
    )
    print(f"{'':<12} {'(corrected GA)':>15} {'(original GA)':>15} {'drain3/vigil':>11}")
    rows = []
    for system in systems:
        (base, cand), (corrected, original) = results[system], labels[system]
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
    print_rounds(timing)


def write_templates(out: str, system: str, result: ParseResult) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{system}.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["LineId", "EventTemplate"])
        for line_id, group in enumerate(result.group_of_line, start=1):
            writer.writerow([line_id, result.template_of_group[group]])


if __name__ == "__main__":
    main()
