"""What the tags area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.realtime.visibility import every_member, register_event_filter

TAG_EVENTS = "tag."


def register() -> None:
    register_event_filter(TAG_EVENTS, every_member)
