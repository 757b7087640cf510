"""``/conversations/{id}/messages`` and ``/messages/{id}/…``: list, send, react, hide, media retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.responses import JSONResponse

from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.validation import Text
from cxinbox.core.wire import CursorEnvelope, Envelope
from cxinbox.messages import sending, service
from cxinbox.messages.schemas import MAX_CAPTION_LENGTH, MessageOut, React, SendMessage
from cxinbox.messages.serializers import message_out

router = APIRouter(tags=["messages"], dependencies=[key_scope(Area.CONVERSATIONS)])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes a retried request a no-op: the same key (per organization, for 24 hours) "
        "answers the first request's status and body and sends nothing new",
    ),
]
SEND_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {
        "description": "WINDOW_CLOSED: outside the 24-hour service window; IDEMPOTENCY_KEY_REUSED; "
        "ACCOUNT_DISCONNECTED, ACCOUNT_DISABLED (banned by Meta), ACCOUNT_DELETED (deleted at Meta): "
        "the conversation's number cannot send; NEWER_CONVERSATION_OPEN: the conversation is CLOSED "
        "and the customer has opened a new one since"
    },
}
#: what sending does to a CLOSED conversation (every send endpoint follows it)
CLOSED_RULE = (
    "Sending to a CLOSED conversation reopens it: it becomes HUMAN_HANDLING when it has an assignee, "
    "OPEN otherwise, `closedAt` is cleared, the move is written to its timeline (reason `reply`) and "
    "published as `conversation.updated`, so the customer's answer arrives in the same conversation. "
    "A send that is refused (WINDOW_CLOSED outside the 24-hour window, a number that cannot send) "
    "leaves it CLOSED. When the customer has opened a new conversation on the same number since, "
    "the send answers 409 NEWER_CONVERSATION_OPEN: reply there."
)


@router.get(
    "/conversations/{id}/messages",
    summary="Get messages for a conversation (cursor-based pagination, newest first)",
    response_model=CursorEnvelope[MessageOut],
)
async def list_messages(
    id: str,
    principal: MemberDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CursorEnvelope[MessageOut]:
    rows, meta = await service.list_messages(session, runtime, principal, id, cursor, limit)
    return CursorEnvelope(data=rows, meta=meta)


@router.post(
    "/conversations/{id}/messages",
    summary="Send a message in a conversation",
    description="Answers 201 with the PENDING message at once; delivery follows (`message.updated` "
    "events carry SENT, DELIVERED, READ, or FAILED with the provider's error).\n\n" + CLOSED_RULE,
    status_code=201,
    response_model=Envelope[MessageOut],
    responses=SEND_RESPONSES,
)
async def send_message(
    id: str,
    body: SendMessage,
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    answer = await sending.send_text(session, runtime, principal, id, body, idempotency_key)
    return answer.response()


@router.post(
    "/conversations/{id}/messages/media",
    summary="Send a media message (image, video, audio, document)",
    description=CLOSED_RULE,
    status_code=201,
    response_model=Envelope[MessageOut],
    responses={
        **SEND_RESPONSES,
        413: {"description": "Over WhatsApp's size limit for the type"},
        415: {"description": "A type WhatsApp does not take"},
    },
)
async def send_media(
    id: str,
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="The file; its type decides the message type")],
    caption: Annotated[Text | None, Form(max_length=MAX_CAPTION_LENGTH)] = None,
    reply_to_message_id: Annotated[Text | None, Form(alias="replyToMessageId", max_length=36)] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    upload = (await file.read(), file.content_type, file.filename or "file")
    answer = await sending.send_media(
        session, runtime, principal, id, upload, caption or None, reply_to_message_id, idempotency_key
    )
    return answer.response()


@router.post(
    "/messages/{id}/react",
    summary="Send a reaction to a message via WhatsApp",
    description="Answers the reaction message (type `reaction`); an empty emoji removes our "
    "reaction.\n\n" + CLOSED_RULE,
    status_code=201,
    response_model=Envelope[MessageOut],
    responses=SEND_RESPONSES,
)
async def react(
    id: str,
    body: React,
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    answer = await sending.react(session, runtime, principal, id, body, idempotency_key)
    return answer.response()


@router.post(
    "/messages/{id}/retry-media",
    summary="Retry media download for a message with failed/missing media",
    response_model=Envelope[MessageOut],
)
async def retry_media(
    id: str, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[MessageOut]:
    message = await service.retry_media(session, runtime, principal, id)
    return Envelope(data=message_out(runtime, message))


@router.post(
    "/messages/{id}/toggle-hide",
    summary="Toggle message visibility (hide/unhide)",
    response_model=Envelope[MessageOut],
)
async def toggle_hide(
    id: str, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[MessageOut]:
    message = await service.toggle_hide(session, runtime, principal, id)
    return Envelope(data=message_out(runtime, message))
