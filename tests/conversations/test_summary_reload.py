"""An outbound message's summary UPDATE and the reload its sender publishes: on PostgreSQL one
statement (the UPDATE in a CTE, the conversation loaded from what it returns), read again when
anything the conversation carries was written in between or in another transaction."""

from __future__ import annotations

from sqlalchemy import insert, text

from cxinbox.conversations.summary import record_message, reload
from cxinbox.core.clock import utcnow
from cxinbox.models.inbox import Conversation, ConversationStatus, SenderType
from cxinbox.models.tags import ConversationTag, Tag
from cxinbox.whatsapp.outbound.compose import Sender, outbound_message, text_message
from tests.fixtures.inbox import seed_conversations
from tests.fixtures.statements import counting


async def test_a_reply_reloads_its_conversation_with_the_update_that_records_it(inbox, runtime):
    [conversation_id] = await seed_conversations(runtime, inbox.org.id, inbox.account.id, 1)
    postgresql = runtime.engine.dialect.name == "postgresql"

    async def record(session, conversation, preview, status=ConversationStatus.OPEN) -> bool:
        message = outbound_message(conversation, text_message(preview), Sender(SenderType.BOT), utcnow())
        return await record_message(session, message, preview, from_customer=False, while_status=status)

    async with runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        async with counting(session) as statements:
            assert await record(session, conversation, "primera")
            reloaded = await reload(session, conversation_id)
        assert reloaded is conversation and conversation.last_message_preview == "primera"
        assert len(statements) == (1 if postgresql else 2)
        # a write of what the conversation carries, in between: it is read again
        tag = Tag(organization_id=inbox.org.id, name="vip", color="#ff0000")
        session.add(tag)
        await session.flush()
        assert await record(session, conversation, "segunda")
        link = {"organization_id": inbox.org.id, "conversation_id": conversation_id, "tag_id": tag.id}
        await session.execute(insert(ConversationTag).values(id=tag.id, **link))
        assert [t.name for t in (await reload(session, conversation_id)).tags] == ["vip"]
        # as does text SQL, whatever it writes
        assert await record(session, conversation, "otra")
        await session.execute(
            text("UPDATE conversations SET priority = 'HIGH' WHERE id = :id"), {"id": conversation_id}
        )
        assert (await reload(session, conversation_id)).priority == "HIGH"
        # not in the status the message was written for: nothing changes
        assert not await record(session, conversation, "nunca", ConversationStatus.CLOSED)
        assert (await reload(session, conversation_id)).last_message_preview == "otra"
        assert await record(session, conversation, "tercera")
        await session.commit()
        # another transaction: it is read again
        async with counting(session) as statements:
            assert (await reload(session, conversation_id)).last_message_preview == "tercera"
        assert len(statements) == 1
