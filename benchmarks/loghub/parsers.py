"""The two parsers under test, run the same way: preprocessing regexes, then one line at a time.

``run_drain3`` is the baseline (drain3 with the standard per-dataset st/depth and regexes);
``run_vigil`` is Vigil's ``TemplateMiner`` with one configuration for every dataset (its own
masking included in the time). With ``preprocessed=True`` the contents already went through the
dataset's regexes (timed separately, since both parsers share that step). ``seconds`` is CPU
time of this process (``time.process_time``), so other load on the machine does not count.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

from benchmarks.loghub.settings import DatasetSetting
from engine.ingest.logtemplate import TemplateMiner


@dataclass(frozen=True, slots=True)
class ParseResult:
    group_of_line: list[str]
    template_of_group: dict[str, str]
    seconds: float


def preprocess(contents: Sequence[str], regexes: Sequence[re.Pattern[str]]) -> list[str]:
    out = []
    for content in contents:
        for regex in regexes:
            content = regex.sub("<*>", content)
        out.append(content)
    return out


def run_drain3(contents: Sequence[str], setting: DatasetSetting, *,
               preprocessed: bool = False) -> ParseResult:
    config = TemplateMinerConfig()
    config.drain_sim_th = setting.st
    config.drain_depth = setting.depth
    config.drain_max_children = 100
    config.profiling_enabled = False
    miner = Drain3Miner(config=config)
    regexes = [] if preprocessed else [re.compile(rx) for rx in setting.regexes]
    start = time.process_time()
    groups = []
    for content in contents:
        for regex in regexes:
            content = regex.sub("<*>", content)
        groups.append(str(miner.add_log_message(content)["cluster_id"]))
    seconds = time.process_time() - start
    templates = {str(c.cluster_id): c.get_template() for c in miner.drain.clusters}
    return ParseResult(groups, templates, seconds)


def run_vigil(contents: Sequence[str], setting: DatasetSetting, *,
              preprocessed: bool = False) -> ParseResult:
    miner = TemplateMiner()
    state = miner.initial_state()
    regexes = [] if preprocessed else [re.compile(rx) for rx in setting.regexes]
    start = time.process_time()
    groups = []
    for content in contents:
        for regex in regexes:
            content = regex.sub("<*>", content)
        groups.append(miner.add(state, content).template_id)
    seconds = time.process_time() - start
    final = [state.resolve(g) for g in groups]
    templates = {tid: t.text for tid, t in state.templates.items()}
    return ParseResult(final, templates, seconds)
