"""Webhook intake: verify, store the raw body with its signature scope, acknowledge; processing
happens in a job.

Nothing is stored when the signature is missing or wrong, or when the body names more numbers and
accounts than Meta ever puts in one (the names are read before the signature can be checked, so
their number is capped). A stored event is processed by the drain job that its storing kicks; if
that job is lost (a crash between the two), the sweeper finds the event.
"""

from __future__ import annotations

from cxinbox.config import Settings
from cxinbox.core.errors import Forbidden, PayloadTooLarge, Unauthorized
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.intake import intake_for
from cxinbox.whatsapp.payload import parse_body
from cxinbox.whatsapp.signers import signature_scope, signing_keys

#: distinct phone number and WhatsApp Business Account ids one body may name (Meta batches up to
#: about a thousand changes in a body, almost always of a handful of numbers)
MAX_SIGNING_IDS = 2_000


class InvalidSignature(Unauthorized):
    code = "INVALID_SIGNATURE"
    message = "The webhook signature is missing or does not match"


class TooManyIds(PayloadTooLarge):
    code = "TOO_MANY_IDS"
    message = f"A webhook body may name at most {MAX_SIGNING_IDS} phone numbers and business accounts"


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
    keys = signing_keys(parse_body(body))
    if keys.count > MAX_SIGNING_IDS:
        raise TooManyIds()
    intake = intake_for(runtime)
    cached = intake.cached_signers(keys)
    scope = signature_scope(signature, body, cached, every_key=True) if cached is not None else None
    if scope is None:
        scope = signature_scope(signature, body, await intake.current_signers(keys))
    if scope is None:
        raise InvalidSignature()
    return await intake.store(body, keys.numbers[0] if keys.numbers else None, scope)
