"""Messages of conversations: sending, listing, reactions, hiding, media retries, the failed queue."""
