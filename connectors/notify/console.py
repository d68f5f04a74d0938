"""Console receiver: one readable line per action on a text stream (stdout by default)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from engine.events import Action, json_object


def render_line(action: Action) -> str:
    """``[receiver] TRIGGER critical inc-… summary (top cause: node)``."""
    incident: dict[str, Any] = json_object(action.payload.get("incident"))
    causes = incident.get("root_causes") or []
    top = f" (top cause: {causes[0]['node']})" if causes else ""
    said = str(action.payload.get("event", "notify")).upper()
    return (
        f"[{action.receiver}] {said} {incident.get('severity', '?')} {action.incident} "
        f"{incident.get('summary', '')}{top}"
    )


class ConsoleNotifier:
    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name, self.stream = name, stream

    async def send(self, action: Action) -> None:
        stream = self.stream or sys.stdout
        stream.write(render_line(action) + "\n")
        stream.flush()
