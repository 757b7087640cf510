"""Billing's way to Stripe: the configured client of a runtime, and Stripe's errors as ours.

Every call goes through ``call``: Stripe unreachable (or answering 5xx) is 503 ``STRIPE_UNAVAILABLE``
with ``Retry-After``, a refused secret key is 503 ``BILLING_NOT_CONFIGURED``, anything else Stripe
refuses is 502 ``STRIPE_ERROR`` carrying Stripe's own message and code.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

import stripe
from stripe import StripeClient, StripeObject

from cxinbox.adapters.stripe import stripe_client
from cxinbox.billing.errors import BillingNotConfigured, StripeRefused, StripeUnavailable
from cxinbox.config import StripeSettings
from cxinbox.runtime import Runtime

T = TypeVar("T", bound=StripeObject)
RETRY_AFTER_SECONDS = 30

_CLIENTS: weakref.WeakKeyDictionary[Runtime, tuple[StripeSettings, StripeClient]] = (
    weakref.WeakKeyDictionary()
)


def stripe_settings(runtime: Runtime) -> StripeSettings:
    """The Stripe settings, or 503 ``BILLING_NOT_CONFIGURED``."""
    settings = runtime.settings.stripe
    if settings is None:
        raise BillingNotConfigured()
    return settings


def client_of(runtime: Runtime) -> StripeClient:
    settings = stripe_settings(runtime)
    cached = _CLIENTS.get(runtime)
    if cached is None or cached[0] != settings:
        client, http = stripe_client(settings)
        runtime.on_stop(http.close_async)
        cached = _CLIENTS[runtime] = (settings, client)
    return cached[1]


async def call(request: Awaitable[T]) -> dict[str, Any]:
    """Await one Stripe request; its object as plain data."""
    try:
        answer = await request
    except stripe.AuthenticationError as exc:
        raise BillingNotConfigured("Stripe refused the configured secret key") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise StripeUnavailable(headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from exc
    except stripe.StripeError as exc:
        if exc.http_status is None or exc.http_status >= 500:
            raise StripeUnavailable(headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from exc
        raise StripeRefused(
            f"Stripe refused the request: {exc.user_message or 'no message'}",
            details={"stripeCode": exc.code, "stripeStatus": exc.http_status},
        ) from exc
    return answer.to_dict()
