"""What the tools area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.realtime.visibility import every_member, register_event_filter
from cxinbox.tools.catalog import TOOL_EVENTS


def register() -> None:
    register_event_filter(TOOL_EVENTS, every_member)
