"""WhatsApp message templates: written here and at Meta, their status followed from Meta, sent to
a conversation or a phone number."""
