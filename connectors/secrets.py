"""Secrets named in rules by reference (``<field>_env`` / ``<field>_file``), resolved at start.

A ``Secret`` never shows its value in ``repr``/``str``/f-strings; code that must send it calls
``reveal()``. Error messages name the variable or file, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from connectors.errors import ConnectorError
from engine.rules.routing import Receiver


class Secret:
    """A secret value that does not print.

    >>> s = Secret("hunter2")
    >>> s, f"{s}", s.reveal()
    (Secret(***), '***', 'hunter2')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"


def resolve_secret(
    receiver: Receiver, base: str, env: Mapping[str, str], root: Path | None = None
) -> Secret | None:
    """The value named by ``<base>_env`` or ``<base>_file`` of ``receiver`` (``None`` if unset).

    Raises ``ConnectorError`` (naming the variable or file, not the value) when the reference
    is set but empty or unreadable.
    """
    var = getattr(receiver, f"{base}_env", None)
    path = getattr(receiver, f"{base}_file", None)
    if var:
        value = env.get(var, "").strip()
        if not value:
            raise ConnectorError(
                f"receiver {receiver.name}: environment variable {var} is not set or empty"
            )
        return Secret(value)
    if path:
        file = Path(path) if root is None or Path(path).is_absolute() else root / path
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConnectorError(
                f"receiver {receiver.name}: cannot read {base}_file {file} ({exc.strerror})"
            ) from None
        if not value:
            raise ConnectorError(f"receiver {receiver.name}: {base}_file {file} is empty")
        return Secret(value)
    return None
