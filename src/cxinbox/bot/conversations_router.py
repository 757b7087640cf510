"""The bot's endpoints under ``/conversations``: classification and the handoff summary, each one
provider call of the active config, and handing a conversation back to the bot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import Field

from cxinbox.auth.dependencies import MemberDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.bot import conversation_ai, sessions
from cxinbox.bot.errors import ERRORS, BotNotAvailable
from cxinbox.conversations.schemas import ConversationOut, ReturnToBot
from cxinbox.conversations.serializers import conversation_out
from cxinbox.conversations.status import InvalidStatusTransition
from cxinbox.core.errors import AppError
from cxinbox.core.wire import ApiModel, Envelope, RequestModel, UtcDatetime
from cxinbox.models.inbox import ConversationStatus

router = APIRouter(
    prefix="/conversations", tags=["conversations"], dependencies=[key_scope(Area.CONVERSATIONS)]
)

_CALLS = AppError.responses(*ERRORS, conversation_ai.NoCategories)
_ONE_CALL = (
    "One call to the active bot config's provider (409 BOT_NOT_AVAILABLE without one); the "
    "conversation's last messages are read as data."
)


class ReclassifyRequest(RequestModel):
    statuses: Annotated[list[ConversationStatus], Field(max_length=5)] | None = Field(
        default=None, description="Addition: the statuses to classify (default: every one but CLOSED)"
    )
    only_uncategorized: bool = Field(
        default=False, description="Addition: skip conversations with a category"
    )


class ReclassifyResult(ApiModel):
    classified: int
    rerouted: int = Field(description="Classified conversations whose team the routing rules changed")
    errors: int
    total: int


class HandoffSummary(ApiModel):
    summary: str
    generated_at: UtcDatetime


@router.post(
    "/re-classify",
    summary="Bulk re-classify and re-route open conversations",
    description=f"`{{statuses?, onlyUncategorized?}}`: classifies up to {conversation_ai.BULK_LIMIT} of "
    "the organization's conversations (most recently active first) against the active config's "
    "`categories`, one provider call each, and routes each classified one again (rules may read its "
    "`category`; `rerouted` counts team changes); a failed call counts in `errors`. Admins and "
    "supervisors. " + _ONE_CALL,
    responses=_CALLS,
)
async def reclassify_all(
    principal: SupervisorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: Annotated[ReclassifyRequest | None, Body()] = None,
) -> Envelope[ReclassifyResult]:
    body = body or ReclassifyRequest()
    counts = await conversation_ai.reclassify_many(
        session, runtime, principal, body.statuses, body.only_uncategorized
    )
    return Envelope(data=ReclassifyResult(**counts))


@router.post(
    "/{id}/re-classify",
    summary="Re-classify a single conversation using AI",
    description="Sets `category` to the one of the active config's `categories` the model picks (null "
    f"when none fits; 409 NO_CATEGORIES when the config has none). {_ONE_CALL}",
    responses=_CALLS,
)
async def reclassify(
    id: str, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await conversation_ai.reclassify(session, runtime, principal, id)))


@router.post(
    "/{id}/generate-handoff-summary",
    summary="Generate a handoff summary preview for agent review",
    description=f"`{{summary, generatedAt}}`; nothing is stored. {_ONE_CALL}",
    responses=_CALLS,
)
async def generate_handoff_summary(
    id: str, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[HandoffSummary]:
    summary, at = await conversation_ai.handoff_summary(session, runtime, principal, id)
    return Envelope(data=HandoffSummary(summary=summary, generated_at=at))


@router.post(
    "/{id}/return-to-bot",
    summary="Return conversation to bot handling",
    description="`{handoffSummary?}`: the conversation becomes BOT_HANDLING and its assignee is "
    "released (a timeline entry, reason `return_to_bot`); `handoffSummary`, the agent's context for "
    "the bot, is kept on the bot session this opens and read by the bot's turns until the session "
    "ends (a conversation already with the bot only has its summary replaced). Any member who sees "
    "the conversation (an agent: their own and their teams' queues). "
    "409 BOT_NOT_AVAILABLE without an active bot config; 409 "
    "INVALID_STATUS_TRANSITION from CLOSED or WAITING_FOR_CUSTOMER.",
    responses=AppError.responses(BotNotAvailable, InvalidStatusTransition),
)
async def return_to_bot(
    id: str, principal: MemberDep, session: SessionDep, body: Annotated[ReturnToBot | None, Body()] = None
) -> Envelope[ConversationOut]:
    summary = body.handoff_summary if body is not None else None
    return Envelope(data=conversation_out(await sessions.return_to_bot(session, principal, id, summary)))
