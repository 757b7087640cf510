"""``POST /webhooks/stripe`` intake: verify, store, acknowledge; the event is applied by a job.

``Stripe-Signature`` is checked over the raw body (``t=<time>,v1=<HMAC-SHA256 of "<t>.<body>">``,
with ``CXINBOX_STRIPE_WEBHOOK_SECRET``) and must be at most ``TOLERANCE_SECONDS`` old; a bad or
stale signature stores nothing. The event is stored under Stripe's own id, so a redelivery (Stripe
retries until it gets a 2xx) is acknowledged and not stored or applied again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe

from cxinbox.billing.errors import InvalidStripeSignature
from cxinbox.billing.stripe_api import stripe_settings
from cxinbox.billing.tasks import process_stripe_event
from cxinbox.core.db import dialect_insert
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.jobs import enqueue
from cxinbox.models.billing import StripeEvent
from cxinbox.runtime import Runtime

TOLERANCE_SECONDS = 300


def verified_event(body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature or "", secret, TOLERANCE_SECONDS
        )
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        raise InvalidStripeSignature() from exc
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed("The body is not JSON") from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and len(event["type"]) <= 100
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
    ):
        raise ValidationFailed("The body is not a Stripe event (id, type, created, data)")
    return event


async def receive(runtime: Runtime, body: bytes, signature: str | None) -> tuple[str, bool]:
    """Verify and store an event; answers its id and whether it had been received before."""
    event = verified_event(body, signature, stripe_settings(runtime).webhook_secret)
    async with runtime.unit_of_work() as session:
        stored = await session.execute(
            dialect_insert(session)(StripeEvent)
            .values(
                id=event["id"],
                type=event["type"],
                payload=event,
                created=datetime.fromtimestamp(event["created"], UTC),
                attempts=0,
            )
            .on_conflict_do_nothing()
            .returning(StripeEvent.id)
        )
        new = stored.first() is not None
        if new:
            enqueue(session, process_stripe_event, event_id=event["id"])
    return event["id"], not new
