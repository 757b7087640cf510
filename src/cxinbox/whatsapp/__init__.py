"""The WhatsApp channel: connected numbers, the webhook, and inbound messages and statuses."""
