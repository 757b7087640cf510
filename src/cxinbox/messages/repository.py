"""Queries of the messages area."""

from __future__ import annotations

from sqlalchemy import Select

from cxinbox.core.pagination import KeysetOrder, parse_datetime
from cxinbox.core.repository import TenantRepository
from cxinbox.models.inbox import Message

#: a conversation's messages, newest first; the id breaks ties between messages of one instant
CONVERSATION_ORDER = KeysetOrder(
    columns=(Message.ordered_at, Message.id), descending=True, decoders=(parse_datetime, str)
)


class MessageRepository(TenantRepository[Message]):
    model = Message
    not_found_message = "Message not found"

    def of_conversation(self, conversation_id: str) -> Select[Message]:
        return self.select().where(Message.conversation_id == conversation_id)
