"""The Stripe API through the official SDK's async client (httpx), at the configured API base."""

from __future__ import annotations

from stripe import HTTPXClient, StripeClient

from cxinbox.config import StripeSettings

#: one Stripe call (connect, send, read) ends after this long
TIMEOUT_SECONDS = 20.0


def stripe_client(settings: StripeSettings) -> tuple[StripeClient, HTTPXClient]:
    """A client whose every call is async (``*_async`` methods): the event loop never blocks; and
    its HTTP client, for its owner to close (``close_async``)."""
    http = HTTPXClient(timeout=TIMEOUT_SECONDS)
    client = StripeClient(
        settings.secret_key,
        base_addresses={"api": settings.api_base},
        http_client=http,
        max_network_retries=1,
    )
    return client, http
