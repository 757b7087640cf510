"""``/n8n/bot-response``: an N8N workflow's answer for a conversation. Sending it as the bot's reply
needs the bot's turn, which is not available yet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from cxinbox.core.errors import NotImplementedYet
from cxinbox.core.wire import RequestModel

router = APIRouter(prefix="/n8n", tags=["n8n"])


class BotResponse(RequestModel):
    conversation_id: str = Field(max_length=36)
    message: dict[str, Any] = Field(description="`{type: text|image|video|document|audio|handoff, …}`")
    message_id: str | None = Field(default=None, max_length=100, description="Makes the callback idempotent")


@router.post(
    "/bot-response",
    summary="Receive bot response from n8n workflow",
    description="Signed with `X-Signature-256` (no bearer token). Needs the bot's turn, which is not "
    "available yet: answers 501 NOT_IMPLEMENTED and stores nothing.",
)
async def bot_response(body: BotResponse) -> dict[str, Any]:
    raise NotImplementedYet("N8N answers need the bot's turn, which is not available yet")
