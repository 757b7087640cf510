"""What billing answers when Stripe is not configured, unreachable or refuses, and its 409s."""

from __future__ import annotations

from cxinbox.core.errors import AppError, BadRequest, Conflict, ServiceUnavailable


class BillingNotConfigured(ServiceUnavailable):
    code = "BILLING_NOT_CONFIGURED"
    message = (
        "Billing is not configured on this server (CXINBOX_STRIPE_SECRET_KEY, CXINBOX_STRIPE_WEBHOOK_SECRET)"
    )


class StripeUnavailable(ServiceUnavailable):
    code = "STRIPE_UNAVAILABLE"
    message = "Stripe cannot be reached; try again later"


class StripeRefused(AppError):
    status_code = 502
    code = "STRIPE_ERROR"
    message = "Stripe refused the request"


class InvalidStripeSignature(BadRequest):
    code = "INVALID_SIGNATURE"
    message = "The Stripe-Signature header is missing, wrong or too old"


class NoSubscription(Conflict):
    code = "NO_SUBSCRIPTION"
    message = "The organization has no subscription"


class SubscriptionExists(Conflict):
    code = "SUBSCRIPTION_EXISTS"
    message = "The organization already has a subscription: change it through the customer portal"


class NoBillingAccount(Conflict):
    code = "NO_BILLING_ACCOUNT"
    message = "The organization has no Stripe customer yet: start with a checkout session"


class PriceNotConfigured(Conflict):
    code = "PRICE_NOT_CONFIGURED"
    message = "No active Stripe price has the lookup key of this plan and interval"
