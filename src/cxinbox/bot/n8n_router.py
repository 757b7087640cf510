"""``/n8n/bot-response``: an N8N workflow's answer, signed instead of authenticated (see ``bot.n8n``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from cxinbox.auth.dependencies import RuntimeDep, SessionDep
from cxinbox.bot import n8n
from cxinbox.bot.n8n import BotResponse, BotResponseResult, NotBotHandling
from cxinbox.core.errors import (
    AppError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
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
    "to OPEN. `image|video|document|audio` answers carry one of `url` (fetched from a public http(s) "
    "address, redirects included: a private one answers 400; at most WhatsApp's limit for the type "
    "and 16 MB, 413 over it; the bytes must be that type, 415 otherwise; a host that does not answer "
    "gives 503 MEDIA_UNAVAILABLE) and `mediaId` (Addition: the id of a message of the organization "
    "whose file is stored; 404 otherwise), and an optional `caption` (not for audio). The "
    "conversation must be BOT_HANDLING (409 NOT_BOT_HANDLING). With `messageId`, a redelivery answers "
    "`duplicate: true` and sends nothing.",
    responses=AppError.responses(
        InvalidSignature,
        NotBotHandling,
        WindowClosed,
        NotFound,
        PayloadTooLarge,
        UnsupportedMediaType,
        ServiceUnavailable(code="MEDIA_UNAVAILABLE"),
    ),
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
