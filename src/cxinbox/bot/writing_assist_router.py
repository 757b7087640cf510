"""The writing assist's endpoints: the organization's setting (``/config``), the user's own switch
(``/profile``) and the suggestion stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse, ServerSentEvent

from cxinbox.adapters.llm.base import Chunk, LlmError, Usage
from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import MemberDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.bot import writing_assist
from cxinbox.bot.errors import ERRORS
from cxinbox.bot.writing_assist import (
    CompleteRequest,
    UpdateWritingAssist,
    UserWritingAssist,
    WritingAssistDisabled,
    WritingAssistOut,
)
from cxinbox.core.errors import AppError
from cxinbox.core.wire import Envelope
from cxinbox.models.identity import Role
from cxinbox.org_config.schemas import Toggle

config_router = APIRouter(prefix="/config", tags=["config"], dependencies=[key_scope(Area.SETTINGS)])
profile_router = APIRouter(prefix="/profile", tags=["profile"], dependencies=[NO_API_KEYS])
router = APIRouter(
    prefix="/writing-assist", tags=["writing-assist"], dependencies=[key_scope(Area.CONVERSATIONS)]
)


@config_router.get(
    "/writing-assist",
    summary="Get writing assist config (org-level + user preference)",
    description="`{org, user{enabled}, effective}`; the key masked. Any member.",
)
async def get_config(
    principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[WritingAssistOut]:
    return Envelope(data=await writing_assist.view(session, runtime, principal))


@config_router.put(
    "/writing-assist",
    summary="Update writing assist org config (admin only)",
    description="`{enabled, useBotConfig, provider, model, apiKey, baseUrl, maxTokens (at most 200), "
    "instructions}`; only the fields sent change. Admins only (403 otherwise).",
)
async def update_config(
    body: UpdateWritingAssist,
    editor: Annotated[Actor, Depends(acting_as(Role.ADMIN))],
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[WritingAssistOut]:
    return Envelope(data=await writing_assist.update(session, runtime, editor, body))


@profile_router.patch(
    "/writing-assist",
    summary="Toggle user writing assist preference",
    description="`{enabled}`: the caller's own switch (on by default).",
)
async def toggle(body: Toggle, principal: MemberDep, session: SessionDep) -> Envelope[UserWritingAssist]:
    return Envelope(data=await writing_assist.set_user_enabled(session, principal, body.enabled))


@router.post(
    "/complete",
    summary="Stream AI autocomplete suggestion for agent writing",
    description="`{conversationId, partialText}` → an SSE stream of the provider's answer as it "
    "arrives: `event: delta` `{text}` for each piece, then `event: done` `{text, usage}` (or `event: "
    "error` `{code, message}` when the provider fails mid-stream). 409 WRITING_ASSIST_DISABLED when "
    "the organization or the caller turned it off; rate limited per user (429); a provider that "
    "refuses before the stream starts answers in the error envelope.",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"},
        **AppError.responses(*ERRORS, WritingAssistDisabled),
    },
)
async def complete(
    body: CompleteRequest, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> EventSourceResponse:
    chunks = await writing_assist.suggestion(session, runtime, principal, body)
    return EventSourceResponse(
        _events(chunks), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


async def _events(chunks: AsyncIterator[Chunk]) -> AsyncIterator[ServerSentEvent]:
    text: list[str] = []
    usage = Usage()
    try:
        async for chunk in chunks:
            if isinstance(chunk, Usage):
                usage = chunk
                continue
            text.append(chunk)
            yield ServerSentEvent(event="delta", data=json.dumps({"text": chunk}))
    except LlmError as exc:
        yield ServerSentEvent(event="error", data=json.dumps({"code": exc.reason, "message": str(exc)}))
        return
    tokens = {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens}
    yield ServerSentEvent(event="done", data=json.dumps({"text": "".join(text), "usage": tokens}))
