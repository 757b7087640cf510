"""``/conversations``: the shared inbox. Every endpoint applies the visibility rule of ``access.py``:
lists and counts through ``queries.py``, one conversation through ``repository.py``."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, SessionDep
from cxinbox.auth.principal import Principal
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.conversations import assignment, service
from cxinbox.conversations.schemas import (
    ME,
    UNASSIGNED,
    AssignConversation,
    ConversationCounts,
    ConversationDetail,
    ConversationFilter,
    ConversationOut,
    ConversationSort,
    FollowUp,
    SubFilter,
    UpdateConversation,
)
from cxinbox.conversations.serializers import conversation_out, conversations_out, detail_out
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.pagination import MAX_LIMIT
from cxinbox.core.wire import CursorEnvelope, Envelope
from cxinbox.models.inbox import ConversationOrigin, ConversationStatus

router = APIRouter(
    prefix="/conversations", tags=["conversations"], dependencies=[key_scope(Area.CONVERSATIONS)]
)

_VISIBILITY = (
    "ADMIN and SUPERVISOR see every conversation; an AGENT sees those assigned to them and the "
    "unassigned ones of their teams. Anything else answers 404."
)
_ASSIGNED_TO = "A user id, `me` (the caller) or `unassigned`"


def _assignee(principal: Principal, assigned_to: str | None) -> dict[str, object]:
    if assigned_to is None:
        return {}
    if assigned_to == UNASSIGNED:
        return {"unassigned": True}
    if assigned_to == ME:
        if principal.user_id is None:
            raise ValidationFailed.field("assignedTo", "'me' needs a signed-in user, not an API key")
        return {"assigned_to": principal.user_id}
    return {"assigned_to": assigned_to}


async def conversation_filter(
    principal: MemberDep,
    status: ConversationStatus | None = Query(None, description="CLOSED ones are listed only with CLOSED"),
    assigned_to: str | None = Query(None, alias="assignedTo", max_length=36, description=_ASSIGNED_TO),
    search: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        description="Contact name or number, or message text (terms of at least 3 characters; a term "
        "found in very many messages is looked for in the 100 most recent of them)",
    ),
    team_id: str | None = Query(None, alias="teamId", max_length=36),
    category: str | None = Query(None, max_length=64),
    tag: str | None = Query(None, max_length=36, description="A tag id"),
    origin: ConversationOrigin | None = Query(None, description="Who started the conversation"),
) -> ConversationFilter:
    return ConversationFilter(
        status=status,
        search=(search or "").strip() or None,
        team_id=team_id,
        category=category,
        tag_id=tag,
        origin=origin,
        **_assignee(principal, assigned_to),  # type: ignore[arg-type]
    )


FilterDep = Annotated[ConversationFilter, Depends(conversation_filter)]


@router.get(
    "",
    summary="List conversations with filters",
    description=f"{_VISIBILITY} CLOSED conversations are left out unless `status=CLOSED`. Cursor "
    "pagination (`meta.nextCursor`): a page never repeats or skips a conversation because others "
    "arrive meanwhile. A conversation whose activity moves while paging (newest/oldest sorts) shows "
    "at its new place; the event stream reports it. `subFilter`: `unread` (unreadCount > 0), "
    "`needs_action` (the last message is the customer's).",
)
async def list_conversations(
    principal: MemberDep,
    session: ReadSessionDep,
    criteria: FilterDep,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    sub_filter: SubFilter | None = Query(None, alias="subFilter", description="Sub-filter pill"),
    sort: ConversationSort = Query(ConversationSort.NEWEST, description="Sort order for conversations"),
) -> CursorEnvelope[ConversationOut]:
    criteria = replace(criteria, sub_filter=sub_filter)
    rows, meta = await service.list_conversations(session, principal, criteria, sort, cursor, limit)
    return CursorEnvelope(data=conversations_out(rows), meta=meta)


@router.get(
    "/categories",
    summary="Get distinct conversation categories",
    description="Every category used by a conversation of the organization, in alphabetical order.",
)
async def categories(principal: MemberDep, session: ReadSessionDep) -> Envelope[list[str]]:
    return Envelope(data=await service.categories(session, principal))


@router.get(
    "/counts",
    summary="Get sub-filter counts (all, unread, needs_action)",
    description=f"The counts of the list with the same filters. {_VISIBILITY}",
)
async def counts(
    principal: MemberDep, session: ReadSessionDep, criteria: FilterDep
) -> Envelope[ConversationCounts]:
    return Envelope(data=await service.count_conversations(session, principal, criteria))


@router.get("/{id}", summary="Get conversation by ID", description=f"{_VISIBILITY} Includes its timeline.")
async def get_conversation(
    id: str, principal: MemberDep, session: ReadSessionDep
) -> Envelope[ConversationDetail]:
    conversation, entries = await service.detail(session, principal, id)
    return Envelope(data=detail_out(conversation, entries))


@router.patch(
    "/{id}",
    summary="Update conversation (status, assignment, etc.)",
    description="Only the fields sent change. `status` follows the status machine (409 "
    "INVALID_STATUS_TRANSITION otherwise); a move to BOT_HANDLING needs an active bot config (409 "
    "BOT_NOT_AVAILABLE). `assignedToId`: admins and supervisors may move a "
    "conversation between agents; an agent only claims an unassigned one or hands over their own "
    "(409 ALREADY_ASSIGNED). `teamId`: admins and supervisors only (403).",
)
async def update_conversation(
    id: str, body: UpdateConversation, principal: MemberDep, session: SessionDep
) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.update_conversation(session, principal, id, body)))


@router.post(
    "/{id}/takeover",
    summary="Agent takes over conversation from bot",
    description="HUMAN_HANDLING, assigned to the caller (a signed-in user: an API key gets 403). 409 "
    "ALREADY_ASSIGNED when someone else has it (of two simultaneous takeovers, one wins), 409 "
    "CONVERSATION_CLOSED when it is closed.",
)
async def takeover(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await assignment.takeover(session, principal, id)))


@router.post(
    "/{id}/read",
    summary="Mark conversation as read",
    description="`unreadCount` becomes 0 (`needsAction` stays until someone answers).",
)
async def mark_read(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.mark_read(session, principal, id)))


@router.post(
    "/{id}/assign",
    summary="Assign conversation to an agent",
    description="`{userId}`: an active member of the organization. An OPEN or BOT_HANDLING "
    "conversation becomes HUMAN_HANDLING. 409 ALREADY_ASSIGNED when someone else has it (unless "
    "the caller is that someone); moving it between agents is `PATCH assignedToId` (admins, "
    "supervisors).",
)
async def assign(
    id: str, body: AssignConversation, principal: MemberDep, session: SessionDep
) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await assignment.assign(session, principal, id, body.user_id)))


@router.post(
    "/{id}/unassign",
    summary="Unassign conversation (release it for other agents)",
    description="Back to its team's queue: a HUMAN_HANDLING conversation becomes OPEN.",
)
async def unassign(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.unassign(session, principal, id)))


@router.post(
    "/{id}/resolve",
    summary="Resolve conversation (mark as resolved)",
    description="CLOSED (final: the customer's next message opens a new conversation).",
)
async def resolve(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.resolve(session, principal, id)))


@router.post(
    "/{id}/follow-up",
    summary="Mark conversation for follow-up",
    description="`{note?, dueAt?}`: replaces any follow-up the conversation has.",
)
async def set_follow_up(
    id: str, principal: MemberDep, session: SessionDep, body: Annotated[FollowUp | None, Body()] = None
) -> Envelope[ConversationOut]:
    conversation = await service.set_follow_up(session, principal, id, body or FollowUp())
    return Envelope(data=conversation_out(conversation))


@router.delete("/{id}/follow-up", summary="Remove follow-up from conversation")
async def clear_follow_up(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.clear_follow_up(session, principal, id)))


@router.get(
    "/{id}/contact-history",
    summary="Get other conversations from the same contact",
    description=f"The contact's other conversations (closed ones included), newest first, at most "
    f"100. {_VISIBILITY}",
)
async def contact_history(
    id: str, principal: MemberDep, session: ReadSessionDep
) -> Envelope[list[ConversationOut]]:
    return Envelope(data=conversations_out(await service.contact_history(session, principal, id)))
