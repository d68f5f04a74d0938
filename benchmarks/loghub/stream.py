"""The 1M-line HDFS stream: Loghub HDFS-2k lines repeated with fresh parameter values.

Every number in a line (block ids, IPs, ports, sizes, thread ids) is replaced by a new value
drawn from a seeded RNG, so exact repeats never happen. Prints lines/s per 10% slice and the
template count for drain3 and Vigil, and Vigil's false new-template events per 1,000 lines
after the first pass over the 2,000 source lines (every template is known by then, so any later
creation is false).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

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
    lines = list(fresh_lines(source, total))
    regexes = [re.compile(rx) for rx in setting.regexes]
    config = TemplateMinerConfig()
    config.drain_sim_th, config.drain_depth = setting.st, setting.depth
    config.profiling_enabled = False
    drain = Drain3Miner(config=config)
    miner = TemplateMiner()
    state = miner.initial_state()
    slices, step = [], total // 10
    false_new = 0
    for start in range(0, total, step):
        chunk = lines[start : start + step]
        t0 = time.perf_counter()
        for content in chunk:
            for regex in regexes:
                content = regex.sub("<*>", content)
            drain.add_log_message(content)
        t1 = time.perf_counter()
        for offset, content in enumerate(chunk):
            for regex in regexes:
                content = regex.sub("<*>", content)
            created = miner.add(state, content).created
            false_new += created and start + offset >= len(source)
        t2 = time.perf_counter()
        slices.append(
            (
                start + len(chunk),
                len(chunk) / (t1 - t0),
                len(chunk) / (t2 - t1),
                len(drain.drain.clusters),
                len(state.templates),
            )
        )
    print(f"\nHDFS stream: {total:,} lines (numbers refreshed after the first 2,000)")
    print(f"{'lines':>9} {'drain3 l/s':>11} {'vigil l/s':>10} {'drain3 tpl':>10} {'vigil tpl':>9}")
    for done, base_rate, cand_rate, base_tpl, cand_tpl in slices:
        print(f"{done:9,d} {base_rate:11,.0f} {cand_rate:10,.0f} {base_tpl:10d} {cand_tpl:9d}")
    base_all = total / sum(step / s[1] for s in slices)
    cand_all = total / sum(step / s[2] for s in slices)
    after = max(1, total - len(source))
    print(
        f"overall lines/s: drain3 {base_all:,.0f}  vigil {cand_all:,.0f}  "
        f"ratio {cand_all / base_all:.2f}x"
    )
    print(
        f"vigil false new templates after warm-up: {false_new} "
        f"({1000 * false_new / after:.4f} per 1,000 lines)"
    )
