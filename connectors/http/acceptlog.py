"""Accept errors logged once per interval, not once per failed ``accept()``.

Out of file descriptors, asyncio's accept loop reports ``socket.accept() out of system
resource`` for every connection it could not take (936,113 times, 379 MB of stderr, in the
slowloris probe of issue 19). ``AcceptErrorLog`` logs the first, then one line per
``LOG_EVERY_S`` with the count of those in between; other loop errors pass through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final

log = logging.getLogger("vigil.http")

LOG_EVERY_S: Final = 10.0


class AcceptErrorLog:
    """A loop exception handler that logs repeated accept errors once per ``every_s``."""

    def __init__(
        self,
        previous: Any,
        every_s: float = LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.previous, self.every_s, self.clock = previous, every_s, clock
        self.last_logged, self.suppressed = float("-inf"), 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not str(context.get("message", "")).startswith("socket.accept()"):
            self._pass_on(loop, context)
            return
        now = self.clock()
        if now - self.last_logged < self.every_s:
            self.suppressed += 1
            return
        log.error(
            "http accept failed: %s (%s); %d more since the last report (one per %.0f s)",
            context["message"],
            context.get("exception"),
            self.suppressed,
            self.every_s,
        )
        self.last_logged, self.suppressed = now, 0

    def _pass_on(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)


def rate_limit_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Install ``AcceptErrorLog`` on ``loop`` (once; other errors go to the previous handler)."""
    current = loop.get_exception_handler()
    if not isinstance(current, AcceptErrorLog):
        loop.set_exception_handler(AcceptErrorLog(current))
