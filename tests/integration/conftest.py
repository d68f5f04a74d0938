"""Fixtures only: a scriptable local HTTP receiver running in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.receivers import Receiver, ReceiverThread


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ReceiverThread(Receiver())
    yield server.receiver
    server.stop()
