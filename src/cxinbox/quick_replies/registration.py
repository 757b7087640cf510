"""What the quick replies area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.realtime.visibility import every_member, register_event_filter

QUICK_REPLY_EVENTS = "quick_reply."


def register() -> None:
    register_event_filter(QUICK_REPLY_EVENTS, every_member)
