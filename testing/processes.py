"""Helpers for tests that run ``vigil`` as a child process."""

from __future__ import annotations

import signal


def ctrl_c_enabled() -> None:
    """``preexec_fn`` for a child a test stops with SIGINT, as Ctrl-C at a terminal would.

    A runner started in the background from a script (``make test &``) ignores SIGINT, a child
    inherits that, and Python then installs no KeyboardInterrupt handler: the child would never
    stop. The child gets the default disposition back before it starts.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
