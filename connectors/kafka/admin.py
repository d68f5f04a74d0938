"""Topic creation for a deployment: every topic of ``Topics`` with the right layout.

Input, output and repartition topics get ``partitions`` partitions; the topology topic gets
one (a total order for the broadcast); the state and silences topics one each, compacted.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from connectors.kafka.config import Topics


def topic_layout(topics: Topics, partitions: int) -> list[NewTopic]:
    """The ``NewTopic`` of every topic Vigil reads or writes."""
    compacted = {topics.name("state"), topics.name("silences")}
    single = {topics.name("topology"), *compacted}
    out = []
    for name in topics.all_names():
        configs = {"cleanup.policy": "compact"} if name in compacted else {}
        out.append(NewTopic(name, 1 if name in single else partitions, 1, topic_configs=configs))
    return out


async def ensure_topics(topics: Topics, partitions: int, client_kwargs: dict[str, Any]) -> None:
    """Create missing topics; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(**client_kwargs)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topic_layout(topics, partitions) if t.name not in existing]
        if missing:
            # another worker may create them between list and create
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
