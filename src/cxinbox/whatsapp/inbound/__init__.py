"""Processing of stored webhook events: messages, statuses, reactions, edits and deletions."""
