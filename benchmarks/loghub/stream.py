"""The 1M-line HDFS stream: Loghub HDFS-2k lines repeated with fresh parameter values.

Every number in a line (block ids, IPs, ports, sizes, thread ids) is replaced by a new value
drawn from a seeded RNG, so exact repeats never happen. Prints lines/s per 10% slice (the
HDFS preprocessing regexes, shared input preparation, are timed apart) and the template count
for drain3 and Vigil, and Vigil's false new-template events per 1,000 lines after the first
pass over the 2,000 source lines (every template is known by then, so any later creation is
false). Times are CPU seconds of this process (``time.process_time``).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from collections.abc import Iterator

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

from benchmarks.loghub.parsers import preprocess
from benchmarks.loghub.settings import SETTINGS, read_contents
from engine.ingest.logtemplate import TemplateMiner

_NUMBER = re.compile(r"\d+")


def fresh_lines(source: list[str], total: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    for index in range(total):
        line = source[index % len(source)]
        if index >= len(source):
            line = _NUMBER.sub(
                lambda m: str(rng.randrange(10 ** len(m.group()))).zfill(len(m.group())), line
            )
        yield line


def run_stream(data: str, total: int) -> None:
    setting = SETTINGS["HDFS"]
    source = read_contents(os.path.join(data, "HDFS", "HDFS_2k.log"), setting.log_format)
    lines = fresh_lines(source, total)
    regexes = [re.compile(rx) for rx in setting.regexes]
    config = TemplateMinerConfig()
    config.drain_sim_th, config.drain_depth = setting.st, setting.depth
    config.profiling_enabled = False
    drain = Drain3Miner(config=config)
    miner = TemplateMiner()
    state = miner.initial_state()
    slices, step = [], total // 10
    false_new = pre_s = 0.0
    for start in range(0, total, step):
        chunk = list(itertools.islice(lines, step))
        t0 = time.process_time()  # the dataset regexes are shared input preparation
        chunk = preprocess(chunk, regexes)
        t1 = time.process_time()
        for content in chunk:
            drain.add_log_message(content)
        t2 = time.process_time()
        for offset, content in enumerate(chunk):
            created = miner.add(state, content).created
            false_new += created and start + offset >= len(source)
        t3 = time.process_time()
        pre_s += t1 - t0
        slices.append((start + len(chunk), t2 - t1, t3 - t2,
                       len(drain.drain.clusters), len(state.templates)))
    print_stream(total, slices, pre_s, int(false_new), total - len(source))


def print_stream(total: int, slices: list[tuple[int, float, float, int, int]], pre_s: float,
                 false_new: int, after: int) -> None:
    print(f"\nHDFS stream: {total:,} lines (numbers refreshed after the first 2,000)")
    print(f"{'lines':>9} {'drain3 l/s':>11} {'vigil l/s':>10} {'drain3 tpl':>10} {'vigil tpl':>9}")
    for done, base_s, cand_s, base_tpl, cand_tpl in slices:
        step = total // len(slices)
        print(f"{done:9,d} {step / base_s:11,.0f} {step / cand_s:10,.0f} {base_tpl:10d} "
              f"{cand_tpl:9d}")
    base_s, cand_s = sum(s[1] for s in slices), sum(s[2] for s in slices)
    print(f"overall lines/s parsing (Vigil's masking included): drain3 {total / base_s:,.0f}  "
          f"vigil {total / cand_s:,.0f}  ratio {base_s / cand_s:.2f}x")
    print(f"overall lines/s end to end (plus {pre_s:.2f} s of shared HDFS regexes): drain3 "
          f"{total / (base_s + pre_s):,.0f}  vigil {total / (cand_s + pre_s):,.0f}  "
          f"ratio {(base_s + pre_s) / (cand_s + pre_s):.2f}x")
    print(f"vigil false new templates after warm-up: {false_new} "
          f"({1000 * false_new / max(1, after):.4f} per 1,000 lines)")
