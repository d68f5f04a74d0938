"""How Vigil's processes log: ``text`` (one line, key=value) or ``json`` (one object a line).

``configure_logging`` is called once by the CLI (``--log-format``, ``--log-level``; a worker
config may set ``log_format`` / ``log_level``). Every record carries its time (UTC), level and
logger name. A message longer than ``MAX_MESSAGE_CHARS`` is cut and says how much was left
out, so one record listing thousands of ids cannot flood the log; code that logs a list should
pass it through ``summarize`` first, which keeps the first few items and counts the rest.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Final, Literal, TextIO

LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]
LOG_FORMATS: Final[tuple[LogFormat, ...]] = ("text", "json")
LOG_LEVELS: Final[tuple[LogLevel, ...]] = ("debug", "info", "warning", "error")
MAX_MESSAGE_CHARS: Final = 2000
"""Longest message written as is; the rest is replaced by ``... (N more characters)``."""
SUMMARY_ITEMS: Final = 10
HANDLER_NAME: Final = "vigil"


def summarize(items: object, limit: int = SUMMARY_ITEMS) -> str:
    """A list for a log line: its first ``limit`` items, then how many were left out.

    >>> summarize(["a", "b", "c"], limit=2)
    "['a', 'b'] ... and 1 more"
    >>> summarize({"x": 1})
    "{'x': 1}"
    """
    if isinstance(items, dict) and len(items) > limit:
        return f"{dict(list(items.items())[:limit])!r} ... and {len(items) - limit} more"
    if isinstance(items, list | tuple) and len(items) > limit:
        return f"{list(items[:limit])!r} ... and {len(items) - limit} more"
    return repr(items)


def cap(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message``, cut at ``limit`` characters with a note of what was cut.

    >>> cap("x" * 12, limit=5)
    'xxxxx ... (7 more characters)'
    """
    if len(message) <= limit:
        return message
    return f"{message[:limit]} ... ({len(message) - limit} more characters)"


def _utc(secs: float | None) -> time.struct_time:
    return time.gmtime(secs)


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO vigil.worker message`` (message capped)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
        self.converter = _utc

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (stdlib name)
        record.message = cap(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """``{"ts": "...Z", "level": "info", "logger": "vigil.worker", "message": "..."}``."""

    def __init__(self) -> None:
        super().__init__()
        self.converter = _utc

    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        entry = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": cap(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = cap(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # stream is a property
    """Writes to ``sys.stderr`` as it is at each record (as the stdlib's last-resort handler
    does), so a handler set up once keeps working when the stream is swapped (tests)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(log_format: LogFormat = "text", level: LogLevel = "info") -> None:
    """Send every log record of the process to stderr in ``log_format`` at ``level`` and up.

    Calling it again replaces the handler it installed before (handlers others installed,
    such as pytest's capture, are left alone)."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
