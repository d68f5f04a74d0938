"""Exceptions raised by connectors."""

from __future__ import annotations

import enum


class ConnectorError(Exception):
    """A connector could not do its I/O (file missing, bad config file, ...)."""


class DeliveryError(ConnectorError):
    """A receiver did not accept a delivery; ``retryable`` says whether trying again may help."""

    def __init__(
        self, sink: str, detail: str, *, retryable: bool, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{sink}: {detail}")
        self.sink, self.retryable, self.retry_after_s = sink, retryable, retry_after_s


class Failure(enum.Enum):
    """Why a delivery failed for good. A failed action's ``error`` begins with the value (the
    wire keeps the text; ``failure_of`` reads the kind back from it)."""

    PERMANENT = "permanent"
    """The receiver refused it and said trying again will not help."""
    DEADLINE = "deadline"
    """Still failing, retryably, when the receiver's delivery deadline passed."""
    NO_RECEIVER = "no receiver"
    """No receiver of that name is configured."""


def failure_of(error: str | None) -> Failure | None:
    """The kind of a failed action's ``error`` (``None``: not one of ours).

    >>> failure_of("permanent: 400 Bad Request"), failure_of("deadline 60s passed: timeout")
    (<Failure.PERMANENT: 'permanent'>, <Failure.DEADLINE: 'deadline'>)
    """
    for kind in Failure:
        if error is not None and error.startswith(kind.value):
            return kind
    return None
