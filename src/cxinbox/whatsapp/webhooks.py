"""Webhook intake: verify, store the raw body, acknowledge; processing happens in a job.

Nothing is stored when the signature is missing or wrong. A stored event is processed after the
request commits; if that job is lost (a crash between the two), the sweeper finds the event.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.config import Settings
from cxinbox.core.errors import Forbidden, Unauthorized
from cxinbox.core.jobs import enqueue
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.payload import parse_body, phone_number_ids, waba_ids
from cxinbox.whatsapp.repository import live_accounts_by_number, live_accounts_by_waba
from cxinbox.whatsapp.signature import signature_matches
from cxinbox.whatsapp.tasks import process_webhook


class InvalidSignature(Unauthorized):
    code = "INVALID_SIGNATURE"
    message = "The webhook signature is missing or does not match"


def verify_subscription(
    settings: Settings, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """Meta's subscription handshake: the challenge, when mode and token match."""
    expected = settings.meta_verify_token
    if mode == "subscribe" and expected and token == expected and challenge is not None:
        return challenge
    raise Forbidden("Webhook verification failed")


async def receive(
    session: AsyncSession, runtime: Runtime, body: bytes, signature: str | None
) -> WebhookEvent:
    payload = parse_body(body)
    numbers = phone_number_ids(payload)
    # events about an account rather than a number name no number: their WABA finds the account
    accounts = list((await live_accounts_by_number(session, numbers)).values())
    accounts = accounts or await live_accounts_by_waba(session, waba_ids(payload))
    own_secrets = [
        runtime.secrets.decrypt(account.app_secret_encrypted)
        for account in accounts
        if account.app_secret_encrypted
    ]
    platform_secret = runtime.settings.meta_app_secret
    secrets = own_secrets or ([platform_secret] if platform_secret else [])
    if not signature_matches(signature, body, secrets):
        raise InvalidSignature()
    event = WebhookEvent(body=body, phone_number_id=numbers[0] if numbers else None)
    session.add(event)
    await session.flush()
    enqueue(session, process_webhook, event_id=event.id)
    return event
