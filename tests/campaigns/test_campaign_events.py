"""What a campaign's batch publishes: each message's ``message.created`` is the message as the API
shows it (``batch_compose`` serializes one message per batch and gives each event its own ids),
followed by its conversation's ``conversation.updated``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.messages.serializers import message_out
from cxinbox.models.event_log import EventRecord
from cxinbox.models.inbox import Message
from tests.campaigns.helpers import create, phones, template, until
from tests.fixtures.inbox import make_inbox

pytestmark = pytest.mark.usefixtures("graph")


async def test_each_message_created_event_is_its_message(client, runtime, factory, graph):
    inbox = await make_inbox(client, runtime, factory, graph)
    template_id = await template(inbox, client, runtime)
    numbers = phones(6)
    given = [{"phone": p} for p in numbers[:5]] + [
        {"phone": numbers[5], "variables": {"body": ["Ana", "A-100"]}}  # a message of its own text
    ]
    created = await create(client, inbox.admin, template_id, numbers, recipients=given)
    await until(client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED")

    async with runtime.unit_of_work() as session:
        events = list(
            await session.scalars(
                select(EventRecord)
                .where(
                    EventRecord.organization_id == inbox.org.id,
                    EventRecord.type.in_(["message.created", "conversation.updated"]),
                )
                .order_by(EventRecord.seq)
            )
        )
        created = [e for e in events if e.type == "message.created"]
        assert len(created) == 6
        for event in created:
            message = await session.get_one(Message, event.data["id"])
            # the stored message, serialized as any other event or answer has it
            assert event.data == message_out(runtime, message).model_dump(mode="json", by_alias=True) | {
                "status": "PENDING", "waMessageId": None
            }  # fmt: skip
            assert event.audience["conversationId"] == message.conversation_id
            following = events[events.index(event) + 1]
            assert following.type == "conversation.updated"
            assert following.data["id"] == message.conversation_id
    texts = {e.data["text"] for e in created}
    assert len(texts) == 2 and any("Ana" in t for t in texts)
