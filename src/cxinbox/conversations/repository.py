"""The conversations of one organization by id, as far as a principal may see them (the scope comes
from ``access.py``; the inbox's lists and counts are in ``queries.py``)."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.access import ConversationScope, scope_for
from cxinbox.core.errors import NotFound
from cxinbox.core.repository import TenantRepository
from cxinbox.models.inbox import Conversation


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation
    not_found_message = "Conversation not found"

    def visible(self, scope: ConversationScope) -> Select[Conversation]:
        return self.select().where(scope.clause())


async def visible_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    """The conversation if ``principal`` may see it, else 404 (never 403: existence is not revealed).

    ``for_update`` locks the row (PostgreSQL) so that concurrent state changes serialise.
    """
    scope = await scope_for(session, principal)
    stmt = (
        ConversationRepository(session, principal.tenant)
        .visible(scope)
        .where(Conversation.id == conversation_id)
    )
    if for_update:
        stmt = stmt.with_for_update()
    conversation = await session.scalar(stmt)
    if conversation is None:
        raise NotFound("Conversation not found")
    return conversation
