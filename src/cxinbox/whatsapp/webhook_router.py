"""``/webhooks/whatsapp``: Meta's verification handshake and event delivery (no bearer token; the
signature authenticates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse

from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.core.wire import ApiModel, Envelope
from cxinbox.whatsapp import webhooks

router = APIRouter(prefix="/webhooks/whatsapp", tags=["webhooks"])


class WebhookReceived(ApiModel):
    id: str
    received: bool = True


@router.get(
    "",
    summary="Meta webhook verification (echoes hub.challenge as plain text)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 403: {"description": "Mode or verify token mismatch"}},
)
async def verify(
    runtime: RuntimeDep,
    hub_mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    hub_verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    hub_challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    challenge = webhooks.verify_subscription(runtime.settings, hub_mode, hub_verify_token, hub_challenge)
    return PlainTextResponse(challenge)


@router.post(
    "",
    summary="Receive WhatsApp Cloud API events (signed with X-Hub-Signature-256)",
    responses={
        401: {"description": "INVALID_SIGNATURE: missing or wrong signature; nothing is stored"},
        413: {"description": "TOO_MANY_IDS: the body names too many numbers and accounts; nothing is stored"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    },
)
async def receive(
    request: Request,
    runtime: RuntimeDep,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> Envelope[WebhookReceived]:
    """The raw body is stored as received and acknowledged; processing runs in a job, and touches only
    the numbers whose own app secret (or, for numbers without one, the platform's) signed the body."""
    event_id = await webhooks.receive(runtime, await request.body(), x_hub_signature_256)
    return Envelope(data=WebhookReceived(id=event_id))
