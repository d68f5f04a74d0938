"""Field readers shared by the per-kind decoders: each returns the checked value or raises.

Every failure is a ``FieldError`` whose reason starts with the key path and a fixed problem
text, with anything taken from the record (the offending value, a label name) in parentheses
at the end: ``labels: must be a map of strings (labels.port is number)``. So the text before
`` (`` is a bounded class fit for a metric label (see ``reason_class``).
"""

from __future__ import annotations

import math
from typing import Final

from engine.ingest.errors import FieldError

_SNIPPET_CHARS: Final = 40


def json_type(value: object) -> str:
    """The JSON type name of a decoded value (``object``, ``array``, ``string``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def describe(value: object) -> str:
    """A short, bounded rendering of a bad value for an error message.

    >>> describe("x" * 100)[:12], describe(True), describe({"a": 1}), describe(float("nan"))
    ("string 'xxxx", 'bool true', 'object', 'NaN')
    """
    if isinstance(value, str):
        shown = repr(value[:_SNIPPET_CHARS]) + ("…" if len(value) > _SNIPPET_CHARS else "")
        return f"string {shown}"
    if isinstance(value, bool):
        return f"bool {'true' if value else 'false'}"
    if isinstance(value, int) and not -(10**30) < value < 10**30:
        return "huge number"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int | float):
        return f"number {value!r}"
    return json_type(value)


def shorten(text: str) -> str:
    """``text`` cut to a bounded length for a message (a label or feature name)."""
    return text[:_SNIPPET_CHARS] + ("…" if len(text) > _SNIPPET_CHARS else "")


def read_name(obj: dict[str, object], key: str) -> str:
    """A required, non-empty string."""
    value = obj.get(key)
    if type(value) is str and value:
        return value
    if value is None:
        raise FieldError(f"{key}: required")
    if isinstance(value, str) and value:
        return str(value)
    raise FieldError(f"{key}: must be a non-empty string (got {describe(value)})")


def read_optional_ident(obj: dict[str, object], key: str) -> str | None:
    """An optional id or version: a non-empty string, or an integer rendered with str()."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return str(value)
    raise FieldError(f"{key}: must be a non-empty string or an integer (got {describe(value)})")


def read_ident(obj: dict[str, object], key: str) -> str:
    """A required id: a non-empty string, or an integer rendered with str()."""
    ident = read_optional_ident(obj, key)
    if ident is None:
        raise FieldError(f"{key}: required")
    return ident


def read_text(obj: dict[str, object], key: str, default: str | None) -> str | None:
    """An optional string (may be empty); missing or null gives ``default``."""
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        return str(value)
    raise FieldError(f"{key}: must be a string (got {describe(value)})")


def as_finite(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` if it is not a finite number (bools are not)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and not -(2**1023) < value < 2**1023:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def read_finite(obj: dict[str, object], key: str) -> float:
    """A required finite number (int or float; never a bool, a string, NaN or ±Inf)."""
    value = obj.get(key)
    number = as_finite(value)
    if number is not None:
        return number
    if key not in obj:
        raise FieldError(f"{key}: required")
    raise FieldError(f"{key}: not a finite number (got {describe(value)})")


def read_label_value(value: object) -> int | float | str | None:
    """A class label or prediction: a string, an int, or a finite float; else ``None``."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value) if -(2**63) <= value < 2**64 else None
    return as_finite(value)


def read_labels(obj: dict[str, object], key: str = "labels") -> dict[str, str]:
    """A flat string-to-string map; missing or null is empty. Non-string values are rejected."""
    value = obj.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        if not isinstance(value, dict):
            raise FieldError(f"{key}: must be a map of strings (got {json_type(value)})")
        value = dict(value)
    for name, label in value.items():
        if type(label) is not str or type(name) is not str:
            if not isinstance(name, str):
                raise FieldError(f"{key}: must be a map of strings (a key is {json_type(name)})")
            if not isinstance(label, str):
                raise FieldError(
                    f"{key}: must be a map of strings ({key}.{shorten(name)} is {json_type(label)})"
                )
    return value
