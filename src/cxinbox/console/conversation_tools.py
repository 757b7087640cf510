"""More of what an agent does with a conversation, each through the service the API's endpoint
calls: assign it to a person or a team (``PATCH /conversations/{id}``, admins and supervisors),
tags (``/conversations/{id}/tags``), a follow-up (``/conversations/{id}/follow-up``), returning it
to the bot (``/conversations/{id}/return-to-bot``), and the quick replies the composer offers when
the text starts with ``/`` (``GET /quick-replies?conversationId=``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxinbox.bot import sessions as bot_sessions
from cxinbox.console.admin import text
from cxinbox.console.conversation import act
from cxinbox.console.visit import FormDep, MemberDep
from cxinbox.conversations import service as conversations
from cxinbox.conversations.schemas import FollowUp, UpdateConversation
from cxinbox.core.errors import AppError
from cxinbox.quick_replies import service as quick_replies
from cxinbox.tags import service as tags

router = APIRouter(include_in_schema=False)
HEAD = "console/_head.html"
#: the most quick replies the composer offers at once
OFFERED = 8


@router.post("/conversations/{id}/assign", response_class=HTMLResponse)
async def assign(id: str, visit: MemberDep, form: FormDep) -> Response:
    """To a person and/or a team (an empty choice takes the conversation off them)."""
    changes = {
        name: text(form, field, 36) or None
        for field, name in (("user_id", "assignedToId"), ("team_id", "teamId"))
        if field in form
    }
    try:
        body = UpdateConversation.model_validate(changes)
    except ValidationError:
        body = UpdateConversation()
    principal = visit.member
    return await act(visit, id, lambda s: conversations.update_conversation(s, principal, id, body), HEAD)


@router.post("/conversations/{id}/tags", response_class=HTMLResponse)
async def add_tag(id: str, visit: MemberDep, form: FormDep) -> Response:
    principal, tag_id = visit.member, text(form, "tag_id", 36)
    return await act(visit, id, lambda s: tags.tag_conversation(s, principal, id, tag_id), HEAD)


@router.post("/conversations/{id}/tags/{tag_id}/remove", response_class=HTMLResponse)
async def remove_tag(id: str, tag_id: str, visit: MemberDep, form: FormDep) -> Response:
    principal = visit.member
    return await act(visit, id, lambda s: tags.untag_conversation(s, principal, id, tag_id), HEAD)


@router.post("/conversations/{id}/follow-up", response_class=HTMLResponse)
async def set_follow_up(id: str, visit: MemberDep, form: FormDep) -> Response:
    due = text(form, "due_at", 40)
    try:
        body = FollowUp.model_validate(
            {"note": text(form, "note", 2000) or None, "dueAt": f"{due}Z" if due else None}
        )
    except ValidationError:
        body = FollowUp(note=text(form, "note", 2000) or None)
    principal = visit.member
    return await act(visit, id, lambda s: conversations.set_follow_up(s, principal, id, body), HEAD)


@router.post("/conversations/{id}/follow-up/clear", response_class=HTMLResponse)
async def clear_follow_up(id: str, visit: MemberDep, form: FormDep) -> Response:
    principal = visit.member
    return await act(visit, id, lambda s: conversations.clear_follow_up(s, principal, id), HEAD)


@router.post("/conversations/{id}/return-to-bot", response_class=HTMLResponse)
async def return_to_bot(id: str, visit: MemberDep, form: FormDep) -> Response:
    principal, summary = visit.member, text(form, "handoff_summary", 4000) or None
    return await act(visit, id, lambda s: bot_sessions.return_to_bot(s, principal, id, summary), HEAD)


@router.get("/conversations/{id}/quick-replies", response_class=HTMLResponse)
async def offered_quick_replies(id: str, request: Request, visit: MemberDep) -> Response:
    """The active quick replies whose shortcut starts with what the composer holds (``/ship``),
    with their variables filled for this conversation; nothing unless the text starts with ``/``."""
    typed = request.query_params.get("text", "").strip()[:100]
    offered = []
    if typed.startswith("/") and visit.member.organization_id is not None:
        principal, runtime = visit.member, visit.runtime
        try:
            async with runtime.read_session() as session:
                replies, values = await quick_replies.list_quick_replies(
                    session, principal, active_only=True, conversation_id=id
                )
        except AppError:
            replies, values = [], None
        wanted = typed.lower()
        offered = [
            quick_replies.present(runtime, r, values)
            for r in replies
            if r.shortcut.lower().startswith(wanted)
        ]
    return visit.page("console/_quick_replies.html", offered=offered[:OFFERED])
