"""The shared vocabulary of the wire contract: time, labels, JSON, ids and severity.

``engine.events`` re-exports all of it; import from there. Ids come from ``stable_id`` (a hash
of the inputs), never from a clock or a counter, so re-processing the same input yields the same
ids.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final, NewType, TypeAlias

EventTime: TypeAlias = float
"""Event time in Unix epoch seconds."""

Labels: TypeAlias = Mapping[str, str]
JsonValue: TypeAlias = (
    "bool | int | float | str | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)
JsonDict: TypeAlias = "dict[str, JsonValue]"

AnomalyId = NewType("AnomalyId", str)
IncidentId = NewType("IncidentId", str)
NodeId = NewType("NodeId", str)

NODE_LABEL_KEYS: Final = ("service", "model", "host")
"""Label keys that name a topology node, in order of preference."""


def stable_id(prefix: str, *parts: object) -> str:
    """Deterministic short id from its parts: ``prefix-`` and 20 hex digits of BLAKE2b.

    >>> stable_id("an", "cpu", 1.0) == stable_id("an", "cpu", 1.0)
    True
    >>> stable_id("an", "cpu", 1.0)[:3]
    'an-'
    """
    digest = hashlib.blake2b("\x1f".join(map(repr, parts)).encode(), digest_size=10)
    return f"{prefix}-{digest.hexdigest()}"


def json_object(value: JsonValue) -> dict[str, Any]:
    """``value`` as a plain dict when it is a JSON object, else an empty dict.

    >>> json_object({"a": 1}), json_object([1, 2]), json_object(None)
    ({'a': 1}, {}, {})
    """
    return dict(value) if isinstance(value, Mapping) else {}


def node_of(labels: Labels) -> str | None:
    """The topology node a set of labels names (``service``, then ``model``, then ``host``)."""
    for key in NODE_LABEL_KEYS:
        value = labels.get(key)
        if value:
            return value
    return None


def series_key(name: str, labels: Labels) -> str:
    """Series identity: the metric name plus its sorted labels, Prometheus style.

    >>> series_key("cpu", {"service": "a", "host": "h1"})
    'cpu{host="h1",service="a"}'
    """
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


class Severity(enum.Enum):
    """Severity of an anomaly, alert or incident, as on the wire."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: Final = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.ERROR: 2,
    Severity.CRITICAL: 3,
}
