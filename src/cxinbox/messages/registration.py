"""What the messages area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.conversations.access import conversation_event_filter
from cxinbox.messages import tasks  # noqa: F401 - its @job/@periodic register messages.purge_idempotency_keys
from cxinbox.realtime.visibility import register_event_filter

MESSAGE_EVENTS = "message."


def register() -> None:
    """A message's events reach whoever may see its conversation."""
    register_event_filter(MESSAGE_EVENTS, conversation_event_filter)
