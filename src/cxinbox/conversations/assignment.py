"""Who works a conversation: take over, assign, unassign, and release a leaving user's work.

The rule for claiming (``takeover``, ``assign``): a conversation that is unassigned, or already
assigned to the target, can be given; one assigned to somebody else answers 409
``ALREADY_ASSIGNED``, except when the caller is that somebody (handing their conversation to a
colleague). Only ``PATCH /conversations/{id}`` with ``assignedToId``, by an admin or supervisor,
moves a conversation from one agent to another. Each write is a compare-and-set (``changes.py``),
so of two simultaneous claims exactly one wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations import changes, status
from cxinbox.conversations.access import ConversationScope, scope_for
from cxinbox.conversations.bot_handover import ensure_bot_can_take
from cxinbox.conversations.queries import NOT_CLOSED, InboxQueries
from cxinbox.conversations.timeline import SYSTEM, Actor
from cxinbox.core.errors import Conflict, NotFound, ValidationFailed
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import User
from cxinbox.models.inbox import Conversation, ConversationStatus

#: statuses that assigning someone turns into HUMAN_HANDLING
_UNWORKED = (ConversationStatus.BOT_HANDLING, ConversationStatus.OPEN)


class AlreadyAssigned(Conflict):
    code = "ALREADY_ASSIGNED"
    message = "The conversation is already assigned to someone else"


class ConversationClosed(Conflict):
    code = "CONVERSATION_CLOSED"
    message = "The conversation is closed"


def claim(
    conversation: Conversation, target_id: str, *, caller_id: str | None, override: bool = False
) -> dict[str, Any]:
    """The values that give ``conversation`` to ``target_id``, if the claiming rule allows it."""
    if conversation.status == ConversationStatus.CLOSED:
        raise ConversationClosed("A closed conversation cannot be assigned")
    current = conversation.assigned_to_id
    if current not in (None, target_id, caller_id) and not override:
        raise AlreadyAssigned(details={"assignedToId": current})
    values: dict[str, Any] = {"assigned_to_id": target_id}
    if conversation.status in _UNWORKED:
        values["status"] = ConversationStatus.HUMAN_HANDLING
    return values


def release(conversation: Conversation) -> dict[str, Any]:
    """The values that put ``conversation`` back in its queue (HUMAN_HANDLING becomes OPEN)."""
    if conversation.assigned_to_id is None:
        return {}
    values: dict[str, Any] = {"assigned_to_id": None}
    if conversation.status == ConversationStatus.HUMAN_HANDLING:
        values["status"] = ConversationStatus.OPEN
    return values


async def claimable(
    session: AsyncSession, principal: Principal, scope: ConversationScope, conversation_id: str
) -> Conversation:
    """The conversation if the caller may claim it. One of the caller's team queues that someone
    else just took answers 409 ``ALREADY_ASSIGNED`` (the caller saw it a moment ago); anything
    else outside the caller's view answers 404."""
    conversation = await InboxQueries(session, principal.tenant).get(conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found")
    if not scope.allows(conversation.assigned_to_id, conversation.team_id):
        if conversation.assigned_to_id is not None and scope.queues(conversation.team_id):
            raise AlreadyAssigned(details={"assignedToId": conversation.assigned_to_id})
        raise NotFound("Conversation not found")
    return conversation


async def takeover(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    """The caller works the conversation from now on: HUMAN_HANDLING, assigned to them."""
    user_id = principal.require_user()
    scope = await scope_for(session, principal)
    conversation = await claimable(session, principal, scope, conversation_id)

    def decide(c: Conversation) -> dict[str, Any]:
        values = claim(c, user_id, caller_id=None)
        return values | changes.moving_to(c, ConversationStatus.HUMAN_HANDLING)

    return await changes.apply(session, conversation, decide, Actor.of(principal), "takeover")


async def assign(
    session: AsyncSession, principal: Principal, conversation_id: str, user_id: str
) -> Conversation:
    scope = await scope_for(session, principal)
    conversation = await claimable(session, principal, scope, conversation_id)
    await ensure_assignable(session, principal.tenant, user_id, field="userId")
    return await changes.apply(
        session,
        conversation,
        lambda c: claim(c, user_id, caller_id=principal.user_id),
        Actor.of(principal),
        "assign",
    )


async def unassign(session: AsyncSession, principal: Principal, conversation: Conversation) -> Conversation:
    return await changes.apply(session, conversation, release, Actor.of(principal), "unassign")


async def return_to_bot(
    session: AsyncSession, principal: Principal, conversation: Conversation
) -> Conversation:
    """The bot works the conversation again: BOT_HANDLING, its assignee released (the status machine
    decides from where: 409 INVALID_STATUS_TRANSITION from CLOSED or WAITING_FOR_CUSTOMER; 409
    BOT_NOT_AVAILABLE when no bot can take it). Whoever sees the conversation may return it (an agent
    sees only their own and their teams' queues)."""
    await ensure_bot_can_take(session, principal)

    def decide(c: Conversation) -> dict[str, Any]:
        status.ensure_move(c.status, ConversationStatus.BOT_HANDLING)
        return changes.moving_to(c, ConversationStatus.BOT_HANDLING) | {"assigned_to_id": None}

    return await changes.apply(session, conversation, decide, Actor.of(principal), "return_to_bot")


async def ensure_assignable(
    session: AsyncSession, tenant: TenantContext, user_id: str, *, field: str
) -> None:
    """``user_id`` is an active member of the organization."""
    found = await session.scalar(
        select(User.id).where(
            User.id == user_id,
            User.organization_id == tenant.organization_id,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
    )
    if found is None:
        raise ValidationFailed.field(field, "is not an active member of the organization")


async def release_conversations(session: AsyncSession, tenant: TenantContext, user_id: str) -> None:
    """A deleted or deactivated user's open conversations go back to their queues; closed ones keep
    their assignee (who handled them), and the timeline keeps every move."""
    repo = InboxQueries(session, tenant)
    held = await repo.list(repo.select().where(Conversation.assigned_to_id == user_id, NOT_CLOSED))
    for conversation in held:
        await changes.apply(session, conversation, release, SYSTEM, "user_left")
