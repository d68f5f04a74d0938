"""Reads the NAB corpus (data files, label windows, profiles) from a dataset folder."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.nab.scorer import LabelledFile, Profile

PROFILE_KEYS = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


@dataclass(frozen=True, slots=True)
class DataFile:
    """One NAB series: ``name`` is ``<category>/<file>.csv``; rows stay in file order."""

    name: str
    timestamps: list[str]
    ts_s: list[float]
    values: list[float]
    labels: LabelledFile

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]


def _epoch_s(text: str) -> float:
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def load_profiles(root: Path) -> list[Profile]:
    raw = json.loads((root / "config" / "profiles.json").read_text())
    out = []
    for key in PROFILE_KEYS:
        cost = raw[key]["CostMatrix"]
        out.append(Profile(key, cost["tpWeight"], cost["fnWeight"], cost["fpWeight"]))
    return out


def load_corpus(root: Path, only: set[str] | None = None) -> list[DataFile]:
    """All data files under ``root/data`` (or those named in ``only``), sorted by name."""
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    files = []
    for name in sorted(windows):
        if only is not None and name not in only:
            continue
        with (root / "data" / name).open(newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        stamps = [r[0] for r in rows]
        first_row: dict[str, int] = {}
        for i, stamp in enumerate(stamps):
            first_row.setdefault(stamp[:19], i)
        spans = tuple((first_row[a[:19]], first_row[b[:19]]) for a, b in windows[name])
        files.append(DataFile(name, stamps, [_epoch_s(s) for s in stamps],
                              [float(r[1]) for r in rows], LabelledFile(name, len(rows), spans)))
    return files
