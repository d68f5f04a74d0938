"""Standard per-dataset Loghub-2k settings (log format, preprocessing regexes, Drain st/depth).

Copied from the table in ``datasets/loghub2k/SOURCE.md`` (the logparser Drain benchmark). The
format and regexes are benchmark inputs shared by drain3 and Vigil; ``st``/``depth`` are drain3's
per-dataset parameters only (Vigil runs one configuration on every dataset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class DatasetSetting:
    log_format: str
    regexes: tuple[str, ...]
    st: float
    depth: int


SETTINGS: Final[dict[str, DatasetSetting]] = {
    "HDFS": DatasetSetting(
        "<Date> <Time> <Pid> <Level> <Component>: <Content>",
        (r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"),
        0.5,
        4,
    ),
    "Hadoop": DatasetSetting(
        r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>", (r"(\d+\.){3}\d+",), 0.5, 4
    ),
    "Spark": DatasetSetting(
        "<Date> <Time> <Level> <Component>: <Content>",
        (r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"),
        0.5,
        4,
    ),
    "Zookeeper": DatasetSetting(
        r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
        (r"(/|)(\d+\.){3}\d+(:\d+)?",),
        0.5,
        4,
    ),
    "BGL": DatasetSetting(
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> "
        "<Component> <Level> <Content>",
        (r"core\.\d+",),
        0.5,
        4,
    ),
    "HPC": DatasetSetting(
        "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>", (r"=\d+",), 0.5, 4
    ),
    "Thunderbird": DatasetSetting(
        r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> "
        r"<Component>(\[<PID>\])?: <Content>",
        (r"(\d+\.){3}\d+",),
        0.5,
        4,
    ),
    "Windows": DatasetSetting(
        "<Date> <Time>, <Level>                  <Component>    <Content>", (r"0x.*?\s",), 0.7, 5
    ),
    "Linux": DatasetSetting(
        r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
        (r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"),
        0.39,
        6,
    ),
    "Android": DatasetSetting(
        "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
        (
            r"(/[\w-]+)+",
            r"([\w-]+\.){2,}[\w-]+",
            r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b",
        ),
        0.2,
        6,
    ),
    "HealthApp": DatasetSetting(r"<Time>\|<Component>\|<Pid>\|<Content>", (), 0.2, 4),
    "Apache": DatasetSetting(r"\[<Time>\] \[<Level>\] <Content>", (r"(\d+\.){3}\d+",), 0.5, 4),
    "Proxifier": DatasetSetting(
        r"\[<Time>\] <Program> - <Content>",
        (r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"),
        0.6,
        3,
    ),
    "OpenSSH": DatasetSetting(
        r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
        (r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"),
        0.6,
        5,
    ),
    "OpenStack": DatasetSetting(
        r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
        (r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"),
        0.5,
        5,
    ),
    "Mac": DatasetSetting(
        r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
        (r"([\w-]+\.){2,}[\w-]+",),
        0.7,
        6,
    ),
}


def header_regex(log_format: str) -> re.Pattern[str]:
    """The logparser way: literal runs of spaces -> ``\\s+``, ``<Field>`` -> named lazy group."""
    parts = re.split(r"(<[^<>]+>)", log_format)
    pattern = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern += re.sub(" +", r"\\s+", part)
        else:
            pattern += f"(?P<{part.strip('<>')}>.*?)"
    return re.compile("^" + pattern + "$")


def read_contents(path: str, log_format: str) -> list[str]:
    """The ``Content`` field of every line that matches the header format (logparser's loader)."""
    regex = header_regex(log_format)
    contents: list[str] = []
    with open(path, encoding="utf-8", errors="replace", newline=None) as handle:
        for line in handle:
            match = regex.search(line.strip())
            if match is not None:
                contents.append(match.group("Content"))
    return contents
