"""``/n8n/bot-response``: an N8N workflow's answer, signed instead of authenticated (see ``bot.n8n``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from cxinbox.auth.dependencies import RuntimeDep, SessionDep
from cxinbox.bot import n8n
from cxinbox.bot.n8n import BotResponse, BotResponseResult, NotBotHandling
from cxinbox.core.errors import AppError, NotImplementedYet
from cxinbox.core.wire import Envelope
from cxinbox.whatsapp.outbound.compose import WindowClosed
from cxinbox.whatsapp.webhooks import InvalidSignature

router = APIRouter(prefix="/n8n", tags=["n8n"])


@router.post(
    "/bot-response",
    summary="Receive bot response from n8n workflow",
    description="No bearer token: `X-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body keyed "
    "with the active config's `n8nSecret` (N8N mode); without it, or wrong, 401 INVALID_SIGNATURE and "
    "nothing happens. A `text` answer is sent as the bot's message; `handoff` moves the conversation "
    "to OPEN. The conversation must be BOT_HANDLING (409 NOT_BOT_HANDLING). With `messageId`, a "
    "redelivery answers `duplicate: true` and sends nothing. Media answers are not available yet (501).",
    responses=AppError.responses(InvalidSignature, NotBotHandling, WindowClosed, NotImplementedYet),
)
async def bot_response(
    body: BotResponse,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias="X-Signature-256")] = None,
) -> Envelope[BotResponseResult]:
    raw = await request.body()
    return Envelope(data=await n8n.take(session, runtime, raw, signature, body))
