"""Every change of a conversation's state goes through ``apply``.

A change is decided on the conversation as it was read, then written with a compare-and-set
``UPDATE … WHERE id = … AND status = … AND assigned_to_id IS … AND team_id IS …`` (the values read).
When another request changed the conversation in between, the UPDATE matches no row: the
conversation is read again and the rules decide again on what is there now. So of two agents taking
over the same conversation at the same moment exactly one wins, on PostgreSQL (where both read it
unassigned) as on SQLite (where transactions run one after the other), and the other is refused by
the rule (409 ``ALREADY_ASSIGNED``), never by a lost update.

Each move of status, assignee or team is written to the timeline, and the conversation's new state
is published as ``conversation.updated``; when its assignee or team changed, the event also names
the previous ones, so whoever just lost sight of the conversation learns it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations import timeline
from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.queue_hooks import queue_changed
from cxinbox.conversations.summary import reload
from cxinbox.conversations.timeline import Actor
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Conflict
from cxinbox.models.inbox import Conversation, ConversationStatus, TimelineKind

#: a rule: given the conversation as it is, the column values to set ({} when nothing changes);
#: it raises an ``AppError`` when the change is not allowed
Decide = Callable[[Conversation], dict[str, Any]]

TRACKED: dict[str, TimelineKind] = {
    "status": TimelineKind.STATUS,
    "assigned_to_id": TimelineKind.ASSIGNEE,
    "team_id": TimelineKind.TEAM,
}
ATTEMPTS = 5


class ConcurrentChange(Conflict):
    code = "CONCURRENT_CHANGE"
    message = "The conversation keeps changing; reload it and try again"


@dataclass(frozen=True)
class Seen:
    status: ConversationStatus
    assigned_to_id: str | None
    team_id: str | None

    @classmethod
    def of(cls, conversation: Conversation) -> Seen:
        return cls(conversation.status, conversation.assigned_to_id, conversation.team_id)


async def apply(
    session: AsyncSession, conversation: Conversation, decide: Decide, actor: Actor, reason: str
) -> Conversation:
    """Decide and write one change; returns the conversation as it now is."""
    for _ in range(ATTEMPTS):
        values = {k: v for k, v in decide(conversation).items() if getattr(conversation, k) != v}
        if not values:
            return conversation
        seen = Seen.of(conversation)
        if await _compare_and_set(session, conversation.id, seen, values):
            return await _changed(session, conversation, seen, values, actor, reason)
        conversation = await reload(session, conversation.id)
    raise ConcurrentChange()


def moving_to(conversation: Conversation, status: ConversationStatus) -> dict[str, Any]:
    """The values of a status move (closing also stamps ``closed_at``)."""
    if conversation.status == status:
        return {}
    values: dict[str, Any] = {"status": status}
    if status == ConversationStatus.CLOSED:
        values["closed_at"] = utcnow()
    return values


async def _compare_and_set(
    session: AsyncSession, conversation_id: str, seen: Seen, values: dict[str, Any]
) -> bool:
    result = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.status == seen.status,
            _is(Conversation.assigned_to_id, seen.assigned_to_id),
            _is(Conversation.team_id, seen.team_id),
        )
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


async def _changed(
    session: AsyncSession,
    conversation: Conversation,
    seen: Seen,
    values: dict[str, Any],
    actor: Actor,
    reason: str,
) -> Conversation:
    for column, kind in TRACKED.items():
        if column in values:
            before, after = getattr(seen, column), values[column]
            timeline.record(
                session,
                conversation.organization_id,
                conversation.id,
                kind,
                _text(before),
                _text(after),
                actor,
                reason,
            )
    if _frees_or_fills_a_queue(values):
        queue_changed(session, conversation.organization_id)
    conversation = await reload(session, conversation.id)
    previous: dict[str, Any] = {}
    if "assigned_to_id" in values:
        previous["previousAssignedToId"] = seen.assigned_to_id
    if "team_id" in values:
        previous["previousTeamId"] = seen.team_id
    publish_conversation(session, conversation, "conversation.updated", previous_audience=previous)
    return conversation


def _frees_or_fills_a_queue(values: dict[str, Any]) -> bool:
    """A closed or released conversation frees an agent; one moved to a team may wait in its queue."""
    return (
        values.get("status") is ConversationStatus.CLOSED
        or ("assigned_to_id" in values and values["assigned_to_id"] is None)
        or values.get("team_id") is not None
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


class NewerConversationOpen(Conflict):
    code = "NEWER_CONVERSATION_OPEN"
    message = (
        "The customer has written again since this conversation was closed: reply in their open "
        "conversation (see contact-history)"
    )


def reopened_status(conversation: Conversation) -> ConversationStatus:
    """Where a conversation goes when it is worked on again: to its agent, or to its queue."""
    if conversation.assigned_to_id is None:
        return ConversationStatus.OPEN
    return ConversationStatus.HUMAN_HANDLING


async def reopen_for_reply(session: AsyncSession, conversation: Conversation, actor: Actor) -> Conversation:
    """A reply sent to a CLOSED conversation reopens it (``reopened_status``), so the reply and the
    customer's answer stay in one thread; the move is a timeline entry (reason ``reply``) and a
    ``conversation.updated`` event, and it commits with the reply or not at all.

    Only one conversation per contact and number may be open: when the customer has opened a new
    one since, the old one stays closed and the reply is refused (409 ``NEWER_CONVERSATION_OPEN``)."""
    if conversation.status is not ConversationStatus.CLOSED:
        return conversation
    if await _open_sibling(session, conversation):
        raise NewerConversationOpen()

    def decide(c: Conversation) -> dict[str, Any]:
        if c.status is not ConversationStatus.CLOSED:
            return {}
        return {"status": reopened_status(c), "closed_at": None}

    return await apply(session, conversation, decide, actor, "reply")


async def _open_sibling(session: AsyncSession, conversation: Conversation) -> bool:
    found = await session.scalar(
        select(Conversation.id)
        .where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.whatsapp_account_id == conversation.whatsapp_account_id,
            Conversation.status != ConversationStatus.CLOSED,
            Conversation.id != conversation.id,
        )
        .limit(1)
    )
    return found is not None


def reopen_waiting(session: AsyncSession, conversation: Conversation) -> None:
    """A customer's message brings a ``WAITING_FOR_CUSTOMER`` conversation back to its agent
    (``HUMAN_HANDLING``) or to its queue (``OPEN``). ``conversation`` must be locked by this
    transaction (read ``FOR UPDATE``), so the decision holds until commit; the caller publishes it
    with the message."""
    if conversation.status is not ConversationStatus.WAITING_FOR_CUSTOMER:
        return
    reopened = reopened_status(conversation)
    conversation.status = reopened
    timeline.record(
        session,
        conversation.organization_id,
        conversation.id,
        TimelineKind.STATUS,
        ConversationStatus.WAITING_FOR_CUSTOMER.value,
        reopened.value,
        timeline.CUSTOMER,
        "customer_message",
    )
