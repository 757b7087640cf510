"""Webhook intake: verify, store the raw body, acknowledge; processing happens in a job.

Nothing is stored when the signature is missing or wrong. A stored event is processed by the drain
job that its storing kicks; if that job is lost (a crash between the two), the sweeper finds the
event.
"""

from __future__ import annotations

from cxinbox.config import Settings
from cxinbox.core.errors import Forbidden, Unauthorized
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.intake import intake_for, signing_keys
from cxinbox.whatsapp.payload import parse_body, phone_number_ids, waba_ids
from cxinbox.whatsapp.signature import signature_matches


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


async def receive(runtime: Runtime, body: bytes, signature: str | None) -> str:
    """Verify and store a webhook body; answers the stored event's id."""
    payload = parse_body(body)
    numbers = phone_number_ids(payload)
    keys = signing_keys(numbers, waba_ids(payload))
    intake = intake_for(runtime)
    cached = intake.cached_secrets(keys)
    verified = bool(cached) and signature_matches(signature, body, cached)
    if not verified and not signature_matches(signature, body, await intake.current_secrets(keys)):
        raise InvalidSignature()
    return await intake.store(body, numbers[0] if numbers else None)
