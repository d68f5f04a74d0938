"""Grouping Accuracy (GA) of a log parser against Loghub ground truth.

A message counts as correct when the set of messages in its predicted group equals the set of
messages in its ground-truth group (Zhu et al., ICSE-SEIP 2019). Ground-truth groups are keyed
by ``EventTemplate`` for the corrected labels (as the Loghub-2.0 evaluator does; in Khan's Linux
labels two EventIds share a template) and by ``EventId`` for the original labels (as the
logparser evaluator does, which the published tables use).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Hashable, Sequence


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Share of messages whose predicted group is exactly their ground-truth group."""
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} labels")
    truth_groups: dict[Hashable, set[int]] = defaultdict(set)
    predicted_groups: dict[Hashable, set[int]] = defaultdict(set)
    for index, (pred, label) in enumerate(zip(predicted, truth, strict=True)):
        truth_groups[label].add(index)
        predicted_groups[pred].add(index)
    correct = 0
    for members in predicted_groups.values():
        first = next(iter(members))
        if truth_groups[truth[first]] == members:
            correct += len(members)
    return correct / len(truth) if truth else 1.0


def read_labels(path: str, column: str) -> list[str]:
    """One label per row of a Loghub ``*_structured*.csv`` file."""
    with open(path, encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]
