"""Exceptions raised by connectors."""

from __future__ import annotations


class ConnectorError(Exception):
    """A connector could not do its I/O (file missing, bad config file, ...)."""


class DeliveryError(ConnectorError):
    """A receiver did not accept a delivery; ``retryable`` says whether trying again may help."""

    def __init__(
        self, sink: str, detail: str, *, retryable: bool, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{sink}: {detail}")
        self.sink, self.retryable, self.retry_after_s = sink, retryable, retry_after_s
