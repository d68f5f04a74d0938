"""The ingest port: how the HTTP API hands decoded events to the runtime, and its adapter.

``Ingest`` is any async callable taking a list of decoded events (alerts, metric points, log
records, changes from every ingest endpoint, ``Rejected`` included, so the runtime writes them
to the dead-letter output) and returning ``False`` when it cannot take them now (the API
answers 503 with ``Retry-After`` and the sender retries). A request's events arrive in batches
of at most ``runtime.http.ingest_batch_events`` (``connectors.http.accept``).
"""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.events import InputEvent, Rejected

Decoded = InputEvent | Rejected
Ingest = Callable[[list[Decoded]], Awaitable[bool]]


@dataclass(slots=True)
class QueueIngest:
    """A bounded, thread-safe queue of decoded batches.

    The server puts without blocking (a full queue means 503); the runtime takes from
    ``batches`` in whatever thread it runs (``get_nowait`` between pipeline batches, or
    ``drain``).
    """

    maxsize: int = 1000
    batches: queue.Queue[list[Decoded]] = field(init=False)

    def __post_init__(self) -> None:
        self.batches = queue.Queue(maxsize=self.maxsize)

    async def __call__(self, events: list[Decoded]) -> bool:
        try:
            self.batches.put_nowait(events)
        except queue.Full:
            return False
        return True

    def drain(self) -> list[Decoded]:
        """Everything queued so far, flattened, oldest first."""
        out: list[Decoded] = []
        while True:
            try:
                out.extend(self.batches.get_nowait())
            except queue.Empty:
                return out
