"""The conversation page: its messages, its 24-hour window, and what an agent does with it (reply,
take over, assign to themselves, close; more in ``conversation_tools.py``), each through the service
the API's endpoint calls.

Without htmx every action is a form that posts and comes back to the page; with htmx it answers
the part of the page it changed and tells the page (``HX-Trigger``) what else to refresh. The
event stream refreshes the same parts when anyone else changes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from cxinbox.console.bubbles import Bubble, bubble
from cxinbox.console.choices import choices
from cxinbox.console.inbox import InboxQuery, listing, no_organization
from cxinbox.console.template_picker import Pickable, chosen, pickable
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.conversations import assignment
from cxinbox.conversations import service as conversations
from cxinbox.conversations.schemas import ConversationOut
from cxinbox.conversations.serializers import conversation_out
from cxinbox.core.errors import AppError, NotFound, ValidationFailed
from cxinbox.knowledge import data_sources
from cxinbox.messages import sending
from cxinbox.messages import service as messages
from cxinbox.messages.schemas import MAX_CAPTION_LENGTH, SendMessage
from cxinbox.models.inbox import ConversationStatus
from cxinbox.templates import sending as template_sending
from cxinbox.whatsapp.outbound.compose import SERVICE_WINDOW, window_open

router = APIRouter(include_in_schema=False)
#: the latest messages the page shows
TIMELINE_SIZE = 50
#: what changed, for the parts of the page that show it (``HX-Trigger``)
CHANGED = json.dumps({"conversation-changed": True})
_ERRORS = {
    "WINDOW_CLOSED": "window_closed",
    "ALREADY_ASSIGNED": "already_assigned",
    "CONVERSATION_CLOSED": "conversation_closed",
    "INVALID_STATUS_TRANSITION": "not_possible",
    "NOT_FOUND": "not_found",
    "BOT_NOT_AVAILABLE": "bot_not_available",
}


@dataclass(frozen=True)
class Shown:
    conversation: ConversationOut
    window_open: bool
    window_ends: datetime | None
    bubbles: list[Bubble]
    #: the APPROVED templates on offer while the window is closed
    templates: list[Pickable]

    @property
    def contact_name(self) -> str:
        contact = self.conversation.contact
        return contact.name or contact.profile_name or contact.phone or contact.wa_id

    @property
    def closed(self) -> bool:
        return self.conversation.status == ConversationStatus.CLOSED


async def shown(visit: Visit, conversation_id: str) -> Shown:
    """The conversation as the person may see it (404 as the API's, for another organization's)."""
    principal, runtime = visit.member, visit.runtime
    async with runtime.read_session() as session:
        conversation, _ = await conversations.detail(session, principal, conversation_id)
        rows, _meta = await messages.list_messages(
            session, runtime, principal, conversation.id, None, TIMELINE_SIZE
        )
        is_open = window_open(conversation)
        out = conversation_out(conversation)
        offered = [] if is_open else await pickable(session, principal, conversation.whatsapp_account_id)
    name = out.contact.name or out.contact.profile_name or out.contact.phone or out.contact.wa_id
    ends = out.last_inbound_at + SERVICE_WINDOW if out.last_inbound_at and is_open else None
    return Shown(out, is_open, ends, [bubble(visit.t, m, name) for m in rows], offered)


def _error_text(visit: Visit, exc: AppError) -> str:
    key = _ERRORS.get(exc.code)
    return visit.t(key) if key else visit.t("action_failed", message=exc.message)


def _not_found(visit: Visit) -> Response:
    return visit.page("console/message.html", 404, title=visit.t("inbox"), text=visit.t("not_found"))


@router.get("/conversations/{id}", response_class=HTMLResponse)
async def conversation_page(id: str, request: Request, visit: MemberDep) -> Response:
    if visit.member.organization_id is None:
        return no_organization(visit)
    try:
        current = await shown(visit, id)
    except NotFound:
        return _not_found(visit)
    query = InboxQuery.parse(request.query_params)
    return visit.page(
        "console/conversation.html",
        listing=await listing(visit, query),
        shown=current,
        choices=await choices(visit),
        idempotency_key=uuid.uuid4().hex,
    )


@router.get("/conversations/{id}/customer-data", response_class=HTMLResponse)
async def customer_data(id: str, visit: MemberDep, force: bool = False) -> Response:
    """The contact panel: each active data source's fields for the contact's number (as
    ``GET /inbox-data-sources/data/{conversationId}``; a failing service shows as such)."""
    if visit.member.organization_id is None:
        return _not_found(visit)
    principal, runtime = visit.member, visit.runtime
    try:
        async with runtime.read_session() as session:
            sources = await data_sources.data_for_conversation(session, runtime, principal, id, force=force)
    except NotFound:
        return _not_found(visit)
    return visit.page("console/_customer_data.html", conversation_id=id, sources=sources)


@router.get("/conversations/{id}/{part}", response_class=HTMLResponse)
async def conversation_part(id: str, part: str, visit: MemberDep) -> Response:
    """One part of the page (``head``, ``timeline`` or ``composer``), as the event stream refreshes it."""
    if part not in ("head", "timeline", "composer") or visit.member.organization_id is None:
        return _not_found(visit)
    try:
        current = await shown(visit, id)
    except NotFound:
        return visit.redirect("/inbox")  # it left the person's view (closed, reassigned)
    return visit.page(f"console/_{part}.html", shown=current, idempotency_key=uuid.uuid4().hex)


async def act(
    visit: Visit,
    id: str,
    work: Callable[[AsyncSession], Awaitable[object]],
    answer: str,
    done: str | None = None,
) -> Response:
    """Run an action; answer the part it changed (htmx) or the page (a plain form); ``done`` is the
    notice the changed part shows when it worked."""
    if visit.member.organization_id is None:
        return no_organization(visit)
    error, status_code = None, 200
    try:
        await in_unit_of_work(visit.runtime, work)
    except AppError as exc:
        if exc.code == "NOT_FOUND":
            return _not_found(visit)
        error, status_code = _error_text(visit, exc), exc.status_code
    if not visit.htmx:
        if error is None:
            return visit.redirect(f"/conversations/{id}")
        return await _page_with_error(visit, id, error, status_code)
    current = await shown(visit, id)
    notice = visit.t(done) if done and error is None else None
    response = visit.page(answer, shown=current, error=error, notice=notice, idempotency_key=uuid.uuid4().hex)
    if error is None:
        response.headers["HX-Trigger"] = CHANGED
    return response


async def _page_with_error(visit: Visit, id: str, error: str, status_code: int) -> Response:
    current = await shown(visit, id)
    return visit.page(
        "console/conversation.html",
        status_code,
        listing=await listing(visit, InboxQuery()),
        shown=current,
        choices=await choices(visit),
        error=error,
        idempotency_key=uuid.uuid4().hex,
    )


@router.post("/conversations/{id}/messages", response_class=HTMLResponse)
async def reply(id: str, visit: MemberDep, form: FormDep) -> Response:
    text = form.get("text")
    if not isinstance(text, str) or not text.strip():
        return await act(visit, id, lambda _s: _nothing(), "console/_composer.html")
    body = SendMessage.model_validate({"text": text[:4096]})
    principal, runtime = visit.member, visit.runtime
    idempotency_key = _idempotency_key(form)
    return await act(
        visit,
        id,
        lambda s: sending.send_text(s, runtime, principal, id, body, idempotency_key),
        "console/_composer.html",
    )


@router.post("/conversations/{id}/media", response_class=HTMLResponse)
async def send_file(id: str, visit: MemberDep, form: FormDep) -> Response:
    """An attachment with its optional caption, as ``POST /conversations/{id}/messages/media``: the
    file's content decides the message type, WhatsApp's size and type limits apply."""
    file, caption = form.get("file"), form.get("caption")
    if not isinstance(file, UploadFile) or not file.filename:
        return await act(visit, id, _no_file, "console/_composer.html")
    upload = (await file.read(), file.content_type, file.filename)
    text = caption.strip()[:MAX_CAPTION_LENGTH] if isinstance(caption, str) and caption.strip() else None
    principal, runtime = visit.member, visit.runtime
    key = _idempotency_key(form)
    return await act(
        visit,
        id,
        lambda s: sending.send_media(s, runtime, principal, id, upload, text, None, key),
        "console/_composer.html",
        done="attachment_sent",
    )


@router.post("/conversations/{id}/template", response_class=HTMLResponse)
async def send_template(id: str, visit: MemberDep, form: FormDep) -> Response:
    """An APPROVED template with its values (the picker's form), as ``POST /templates/{name}/send``."""
    principal, runtime = visit.member, visit.runtime
    idempotency_key = _idempotency_key(form)
    try:
        name, body = chosen(form, id)
    except ValidationError:
        return await act(visit, id, _refuse_values, "console/_composer.html")
    return await act(
        visit,
        id,
        lambda s: template_sending.send_to_conversation(s, runtime, principal, name, body, idempotency_key),
        "console/_composer.html",
        done="template_sent",
    )


async def _refuse_values(_session: AsyncSession) -> None:
    raise ValidationFailed("The template's values do not fit")


async def _nothing() -> None:
    return None


async def _no_file(_session: AsyncSession) -> None:
    raise ValidationFailed("Choose a file to send")


def _idempotency_key(form: FormData) -> str | None:
    """The form's own key (one per rendered composer): the same form posted twice sends once."""
    key = form.get("idempotency_key")
    return key[:64] if isinstance(key, str) and key else None


@router.post("/conversations/{id}/takeover", response_class=HTMLResponse)
async def takeover(id: str, visit: MemberDep, form: FormDep) -> Response:
    return await act(visit, id, lambda s: assignment.takeover(s, visit.member, id), "console/_head.html")


@router.post("/conversations/{id}/assign-to-me", response_class=HTMLResponse)
async def assign_to_me(id: str, visit: MemberDep, form: FormDep) -> Response:
    principal = visit.member
    user_id = principal.require_user()
    return await act(visit, id, lambda s: assignment.assign(s, principal, id, user_id), "console/_head.html")


@router.post("/conversations/{id}/close", response_class=HTMLResponse)
async def close(id: str, visit: MemberDep, form: FormDep) -> Response:
    return await act(visit, id, lambda s: conversations.resolve(s, visit.member, id), "console/_head.html")


@router.post("/conversations/{id}/read")
async def mark_read(id: str, visit: MemberDep, form: FormDep) -> Response:
    """Seen: its unread count goes to 0 (as ``POST /conversations/{id}/read``)."""
    with suppress(AppError):  # no longer visible: nothing to mark
        await in_unit_of_work(visit.runtime, lambda s: conversations.mark_read(s, visit.member, id))
    return visit.finish(Response(status_code=204))
