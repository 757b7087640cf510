"""``/bot-feedback``: members rate the bot's messages; admins and supervisors read the ratings."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.pagination import MAX_LIMIT
from cxinbox.core.wire import CursorEnvelope, Envelope
from cxinbox.studio import feedback
from cxinbox.studio.schemas import FeedbackOut, SubmitFeedback

router = APIRouter(prefix="/bot-feedback", tags=["bot-studio"], dependencies=[NO_API_KEYS])


@router.get(
    "",
    summary="List bot feedback",
    description="The organization's ratings, newest first, cursor pagination. Admins and supervisors.",
)
async def list_feedback(
    principal: SupervisorDep,
    session: ReadSessionDep,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
) -> CursorEnvelope[FeedbackOut]:
    rows, meta = await feedback.list_feedback(session, principal, cursor, limit)
    return CursorEnvelope(data=rows, meta=meta)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Submit feedback on a bot message",
    description="`{messageId, conversationId, rating: 0|1, comment?}` (0 not helpful, 1 helpful). The "
    "message must be a BOT message of that conversation, which the caller can see (404 otherwise). "
    "One rating per person and message: a second one replaces it (200). Any member.",
)
async def submit(
    body: SubmitFeedback, principal: MemberDep, session: SessionDep, response: Response
) -> Envelope[FeedbackOut]:
    row, created = await feedback.submit(session, principal, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return Envelope(data=FeedbackOut.model_validate(row))
