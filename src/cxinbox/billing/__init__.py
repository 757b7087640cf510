"""Billing through Stripe: plans bought by checkout, extra agent seats, previews, cancellation, and
the webhook that moves an organization's plan."""
