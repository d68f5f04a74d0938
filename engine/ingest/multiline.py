"""Multi-line log records: continuation lines (stack traces) are joined to the line before.

A line continues the previous record of the same service when it starts with whitespace, with
``at ``, ``Caused by:``, ``Traceback``, ``...``, ``File "``, or is a bare exception line such as
``java.lang.IllegalStateException: boom`` or ``ValueError: bad``. The joined record keeps the
head line's time, level and labels; its level is raised to the highest level among its lines.
"""

from __future__ import annotations

import re
from typing import Final

CONTINUATION: Final = re.compile(
    r"^(?:\s|at\s|Caused by:|Traceback|\.\.\.|File \"|[\w$.]*(?:Error|Exception)(?::|$))")


def is_continuation(message: str) -> bool:
    """Whether ``message`` continues the previous record rather than starting a new one.

    >>> [is_continuation(m) for m in ["\\tat a.B.c(B.java:10)", "Caused by: x", "GET /x 200"]]
    [True, True, False]
    """
    return CONTINUATION.match(message) is not None


def head_line(message: str) -> str:
    """The first line of a joined record: what template mining looks at."""
    cut = message.find("\n")
    return message if cut < 0 else message[:cut]
