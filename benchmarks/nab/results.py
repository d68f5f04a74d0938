"""Writes NAB-format result files so any NAB scorer (the official one too) can check a run."""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks.nab.corpus import DataFile


def write_results(root: Path, detector: str, files: list[DataFile],
                  scores: dict[str, list[float | None]]) -> None:
    """``root/<detector>/<category>/<detector>_<file>.csv``: timestamp, value, anomaly_score,
    label (1 inside a label window), one row per data row in file order; warm-up scores as 0."""
    for data in files:
        category, file_name = data.name.split("/", 1)
        out = root / detector / category / f"{detector}_{file_name}"
        out.parent.mkdir(parents=True, exist_ok=True)
        inside = [0] * data.labels.rows
        for start, end in data.labels.windows:
            inside[start:end + 1] = [1] * (end - start + 1)
        with out.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["timestamp", "value", "anomaly_score", "label"])
            for row in zip(data.timestamps, data.values, scores[data.name], inside, strict=True):
                stamp, value, score, label = row
                writer.writerow([stamp, repr(value), f"{score or 0.0:.6f}", label])
