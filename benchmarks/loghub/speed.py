"""Parsing speed on the Loghub-2k inputs: drain3 and Vigil interleaved over N rounds.

Each round times, for every dataset, the shared dataset regexes, drain3 and Vigil (the order of
the two parsers alternates between rounds), every run from fresh state (Vigil's masking memo
lives in its fresh miner state). A round's rate is all lines over the round's summed seconds.
Times are CPU seconds of this process (``time.process_time``, set in ``parsers``): the parsers
are single-threaded and do no I/O, so this is their cost, and other load on a shared machine
inflates neither side. Printed: median lines/s of each parser, the median of the per-round
ratios and their spread (min-max), parsing only and end to end (plus the shared regexes).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.loghub.parsers import ParseResult, preprocess, run_drain3, run_vigil
from benchmarks.loghub.settings import DatasetSetting


@dataclass(slots=True)
class Rounds:
    """Seconds per round of the shared regexes and of each parser, over all datasets."""

    lines: int = 0
    preprocess_s: list[float] = field(default_factory=list)
    drain3_s: list[float] = field(default_factory=list)
    vigil_s: list[float] = field(default_factory=list)


def time_rounds(inputs: Sequence[tuple[str, DatasetSetting, list[str]]], rounds: int,
                ) -> tuple[Rounds, dict[str, tuple[ParseResult, ParseResult]]]:
    """Run every parser ``rounds`` times on every raw input; results are from the first round
    (and checked equal in later ones: both parsers are deterministic)."""
    timing = Rounds(lines=sum(len(raw) for _, _, raw in inputs))
    results: dict[str, tuple[ParseResult, ParseResult]] = {}
    for index in range(rounds):
        pre_s = base_s = cand_s = 0.0
        for system, setting, raw in inputs:
            start = time.process_time()
            contents = preprocess(raw, [re.compile(rx) for rx in setting.regexes])
            pre_s += time.process_time() - start
            if index % 2:
                cand = run_vigil(contents, setting, preprocessed=True)
                base = run_drain3(contents, setting, preprocessed=True)
            else:
                base = run_drain3(contents, setting, preprocessed=True)
                cand = run_vigil(contents, setting, preprocessed=True)
            base_s, cand_s = base_s + base.seconds, cand_s + cand.seconds
            first = results.setdefault(system, (base, cand))
            if first[1].group_of_line != cand.group_of_line:
                raise AssertionError(f"{system}: Vigil grouped differently in round {index}")
        timing.preprocess_s.append(pre_s)
        timing.drain3_s.append(base_s)
        timing.vigil_s.append(cand_s)
    return timing, results


def print_rounds(timing: Rounds) -> None:
    lines, pre = timing.lines, timing.preprocess_s
    parse = [b / c for b, c in zip(timing.drain3_s, timing.vigil_s, strict=True)]
    whole = [(b + p) / (c + p)
             for b, c, p in zip(timing.drain3_s, timing.vigil_s, pre, strict=True)]
    base_rate = lines / statistics.median(timing.drain3_s)
    cand_rate = lines / statistics.median(timing.vigil_s)
    print(f"lines/s parsing ({lines} lines x {len(parse)} interleaved rounds, medians; Vigil's "
          f"masking included, the shared dataset regexes not): drain3 {base_rate:,.0f}  "
          f"vigil {cand_rate:,.0f}")
    print(f"  speed ratio vigil/drain3 per round: median {statistics.median(parse):.2f}x  "
          f"spread {min(parse):.2f}x-{max(parse):.2f}x")
    pre_s = statistics.median(pre)
    base_all = lines / statistics.median([b + p for b, p in zip(timing.drain3_s, pre,
                                                                  strict=True)])
    cand_all = lines / statistics.median([c + p for c, p in zip(timing.vigil_s, pre,
                                                                  strict=True)])
    print(f"lines/s end to end (plus a median {pre_s:.3f} s of shared dataset regexes): "
          f"drain3 {base_all:,.0f}  vigil {cand_all:,.0f}")
    print(f"  speed ratio vigil/drain3 per round: median {statistics.median(whole):.2f}x  "
          f"spread {min(whole):.2f}x-{max(whole):.2f}x")
