"""Topic creation for a deployment: every topic of ``Topics`` with the right layout.

Input, output and repartition topics get ``partitions`` partitions; the topology topic gets
one (a total order for the broadcast) and the state topic one, compacted.
"""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from connectors.kafka.config import Topics


def topic_layout(topics: Topics, partitions: int) -> list[NewTopic]:
    """The ``NewTopic`` of every topic Vigil reads or writes."""
    single = {topics.name("topology"), topics.name("state")}
    out = []
    for name in topics.all_names():
        configs = {"cleanup.policy": "compact"} if name == topics.name("state") else {}
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
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another worker created them between list and create
    finally:
        await admin.close()
