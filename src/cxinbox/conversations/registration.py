"""What the inbox plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.conversations import tasks  # noqa: F401 - its @job/@periodic register conversations.fold_counts
from cxinbox.conversations.access import conversation_event_filter
from cxinbox.conversations.assignment import release_conversations
from cxinbox.realtime.visibility import register_event_filter
from cxinbox.users.hooks import on_user_leaving

CONVERSATION_EVENTS = "conversation."


def register() -> None:
    register_event_filter(CONVERSATION_EVENTS, conversation_event_filter)
    on_user_leaving(release_conversations)
