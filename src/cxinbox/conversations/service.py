"""Rules of the inbox: reading lists and details, and the changes agents make all day."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations import assignment, changes, counters, status, timeline
from cxinbox.conversations.access import scope_for
from cxinbox.conversations.bot_handover import ensure_bot_can_take
from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.queries import UNREAD, InboxQueries
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.schemas import (
    ConversationCounts,
    ConversationFilter,
    ConversationSort,
    FollowUp,
    UpdateConversation,
)
from cxinbox.conversations.summary import reload
from cxinbox.conversations.timeline import Actor
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Forbidden, ValidationFailed
from cxinbox.core.wire import CursorMeta
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation, ConversationStatus, ConversationTimelineEntry
from cxinbox.models.teams import Team

MANAGERS = (Role.ADMIN, Role.SUPERVISOR)


async def list_conversations(
    session: AsyncSession,
    principal: Principal,
    criteria: ConversationFilter,
    sort: ConversationSort,
    cursor: str | None,
    limit: int,
) -> tuple[list[Conversation], CursorMeta]:
    scope = await scope_for(session, principal)
    return await InboxQueries(session, principal.tenant).page(scope, criteria, sort, cursor, limit)


async def in_view(
    session: AsyncSession, principal: Principal, criteria: ConversationFilter, conversation_id: str
) -> Conversation | None:
    """``conversation_id`` if ``principal`` may see it and it meets ``criteria`` (a list's one row,
    with the list's own conditions), else None."""
    scope = await scope_for(session, principal)
    return await InboxQueries(session, principal.tenant).one_in_view(scope, criteria, conversation_id)


async def count_conversations(
    session: AsyncSession, principal: Principal, criteria: ConversationFilter
) -> ConversationCounts:
    """From the counters (``counters.py``), or from the conversations when a tag or a search is
    among the filters."""
    scope = await scope_for(session, principal)
    if counters.covers(criteria):
        every, unread, needs_action = await counters.counted(session, principal.tenant, scope, criteria)
    else:
        every, unread, needs_action = await InboxQueries(session, principal.tenant).counts_by_scan(
            scope, criteria
        )
    return ConversationCounts(all=every, unread=unread, needs_action=needs_action)


async def categories(session: AsyncSession, principal: Principal) -> list[str]:
    return await InboxQueries(session, principal.tenant).categories()


async def detail(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> tuple[Conversation, Sequence[ConversationTimelineEntry]]:
    conversation = await visible_conversation(session, principal, conversation_id)
    return conversation, await timeline.recent_entries(session, conversation.id)


async def contact_history(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> Sequence[Conversation]:
    scope = await scope_for(session, principal)
    conversation = await visible_conversation(session, principal, conversation_id)
    return await InboxQueries(session, principal.tenant).contact_history(scope, conversation)


async def update_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str, body: UpdateConversation
) -> Conversation:
    """``PATCH``: status (a move of the status machine), assignee, team, category, priority.

    Admins and supervisors may move a conversation from one agent to another and change its team;
    an agent assigns as ``assign`` does (an unassigned conversation, or their own).
    """
    sent = body.model_fields_set
    manager = principal.has_role(*MANAGERS)
    conversation = await visible_conversation(session, principal, conversation_id)
    if "team_id" in sent:
        if not manager:
            raise Forbidden("Only admins and supervisors move conversations between teams")
        if body.team_id is not None:
            await _ensure_team(session, principal, body.team_id)
    if "assigned_to_id" in sent and body.assigned_to_id is not None:
        await assignment.ensure_assignable(
            session, principal.tenant, body.assigned_to_id, field="assignedToId"
        )
    if "status" in sent and body.status is None:
        raise ValidationFailed.field("status", "must not be null")
    if body.status is ConversationStatus.BOT_HANDLING and conversation.status is not body.status:
        status.ensure_move(conversation.status, body.status)  # the status machine answers first
        await ensure_bot_can_take(session, principal)

    def decide(c: Conversation) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "assigned_to_id" in sent:
            if body.assigned_to_id is None:
                values |= assignment.release(c)
            else:
                values |= assignment.claim(
                    c, body.assigned_to_id, caller_id=principal.user_id, override=manager
                )
        if body.status is not None:
            status.ensure_move(c.status, body.status)
            values = {k: v for k, v in values.items() if k != "status"} | changes.moving_to(c, body.status)
        if "team_id" in sent:
            values["team_id"] = body.team_id
        if "category" in sent:
            values["category"] = body.category
        if body.priority is not None:
            values["priority"] = body.priority.value
        return values

    return await changes.apply(session, conversation, decide, Actor.of(principal), "update")


async def resolve(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)

    def decide(c: Conversation) -> dict[str, Any]:
        status.ensure_move(c.status, ConversationStatus.CLOSED)
        return changes.moving_to(c, ConversationStatus.CLOSED)

    return await changes.apply(session, conversation, decide, Actor.of(principal), "resolve")


async def unassign(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    return await assignment.unassign(session, principal, conversation)


async def mark_read(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    """Unread goes to 0 in one UPDATE (never a read-modify-write: an inbound message counted at the
    same moment is either before it, and read, or after it, and unread)."""
    conversation = await visible_conversation(session, principal, conversation_id)
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, UNREAD)
        .values(unread_count=0, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    conversation = await reload(session, conversation.id)
    if result.rowcount:  # type: ignore[attr-defined]
        publish_conversation(session, conversation, "conversation.updated")
    return conversation


async def set_follow_up(
    session: AsyncSession, principal: Principal, conversation_id: str, body: FollowUp
) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    values = {
        "follow_up_set_at": utcnow(),
        "follow_up_at": body.due_at,
        "follow_up_note": body.note,
        "follow_up_by_id": principal.user_id,
        "follow_up_notified_at": None,
    }
    return await changes.apply(session, conversation, lambda _c: values, Actor.of(principal), "follow_up")


async def clear_follow_up(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    cleared = dict.fromkeys(
        ("follow_up_set_at", "follow_up_at", "follow_up_note", "follow_up_by_id", "follow_up_notified_at")
    )
    return await changes.apply(session, conversation, lambda _c: cleared, Actor.of(principal), "follow_up")


async def _ensure_team(session: AsyncSession, principal: Principal, team_id: str) -> None:
    found = await session.scalar(
        select(Team.id).where(Team.id == team_id, Team.organization_id == principal.tenant.organization_id)
    )
    if found is None:
        raise ValidationFailed.field("teamId", "is not a team of the organization")
