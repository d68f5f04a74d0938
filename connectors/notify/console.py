"""Console receiver: one readable line per action on a text stream (stdout by default).

Every value from the data (summary, node, severity, ids) has its control characters and bidi
overrides escaped (``connectors.safetext.escape_text``), so a label cannot clear the screen or
print a second, forged line.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from connectors.safetext import escape_text
from engine.events import Action, json_object


def render_line(action: Action) -> str:
    r"""``[receiver] TRIGGER critical inc-… summary (top cause: node)``.

    >>> a = Action("act-1", 0.0, "inc-1", "console", "notify", "inc-1",
    ...            {"event": "trigger", "incident": {"severity": "critical",
    ...             "summary": "x\x1b[2J\n[console] RESOLVE all clear\u202e"}})
    >>> print(render_line(a))
    [console] TRIGGER critical inc-1 x\x1b[2J\n[console] RESOLVE all clear\u202e
    """
    incident: dict[str, Any] = json_object(action.payload.get("incident"))
    causes = incident.get("root_causes") or []
    top = f" (top cause: {escape_text(causes[0]['node'])})" if causes else ""
    said = escape_text(action.payload.get("event", "notify")).upper()
    severity, summary = incident.get("severity", "?"), incident.get("summary", "")
    return (
        f"[{escape_text(action.receiver)}] {said} {escape_text(severity)} "
        f"{escape_text(action.incident)} {escape_text(summary)}{top}"
    )


class ConsoleNotifier:
    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name, self.stream = name, stream

    async def send(self, action: Action) -> None:
        stream = self.stream or sys.stdout
        stream.write(render_line(action) + "\n")
        stream.flush()
