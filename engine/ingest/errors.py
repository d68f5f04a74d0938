"""The one exception of the ingest package; it never leaves ``engine.ingest.decode``."""

from __future__ import annotations


class FieldError(Exception):
    """A field of one record is missing or invalid; ``reason`` becomes the dead-letter error.

    Raised by the per-kind decoders and caught by ``decode_record``/``decode_object``, which turn
    it into a ``Rejected``. It is control flow on the error path only: valid records never pay
    for it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def under(self, prefix: str) -> FieldError:
        """The same error with its key path put under ``prefix`` (``alerts[2]`` + ``labels``)."""
        return FieldError(f"{prefix}.{self.reason}")
