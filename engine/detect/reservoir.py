"""Bounded windows: a uniform sample of at most ``cap`` values (reservoir sampling).

Algorithm R (Vitter 1985): value number ``t`` (0-based within its window) is kept when
``t < cap``; later it replaces slot ``j`` when ``j < cap``, with ``j`` uniform on ``0..t``.
Every value of the window is then in the sample with probability ``cap / n``. ``j`` comes from
a counter-based generator (SplitMix64 of ``seed`` mixed with ``t``), so the sample depends only
on the seed and the values' positions: splitting a batch, or checkpointing in between, gives the
same sample, and the state needs nothing but the seed and the count seen so far.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer of each uint64 (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def stream_seed(seed: int, *parts: str | int) -> int:
    """A 63-bit seed for one stream (e.g. one feature of one window) derived from ``seed``."""
    key = "\x1f".join(map(str, (seed, *parts))).encode()
    return (zlib.crc32(key) << 31) ^ (seed & 0x7FFFFFFF)


def reservoir_add(
    sample: np.ndarray, seen: int, values: np.ndarray, cap: int, seed: int
) -> np.ndarray:
    """The sample after ``values`` join a window that had already seen ``seen`` values.

    ``sample`` holds ``min(seen, cap)`` values; it is not modified (a new array is returned).

    Examples
    --------
    >>> s = reservoir_add(np.empty(0), 0, np.arange(10.0), cap=4, seed=7)
    >>> s2 = reservoir_add(reservoir_add(np.empty(0), 0, np.arange(6.0), 4, 7), 6,
    ...                    np.arange(6.0, 10.0), 4, 7)
    >>> len(s), s.tolist() == s2.tolist()
    (4, True)
    """
    fill = max(0, min(cap - len(sample), len(values)))
    out = np.concatenate([sample, values[:fill]]) if fill else sample.copy()
    rest = values[fill:]
    if len(rest) == 0:
        return out
    t = np.arange(seen + fill, seen + len(values), dtype=np.uint64)
    u = (splitmix64(t ^ np.uint64(seed)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    j = (u * (t + np.uint64(1)).astype(np.float64)).astype(np.int64)
    keep = j < cap
    slots, kept = j[keep][::-1], rest[keep][::-1]
    # a later value overwrites an earlier one in the same slot: keep each slot's last write
    unique_slots, last = np.unique(slots, return_index=True)
    out[unique_slots] = kept[last]
    return out
