"""What the templates area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.realtime.visibility import every_member, register_event_filter
from cxinbox.templates.status import fold_change
from cxinbox.whatsapp.inbound.templates import on_template_change

TEMPLATE_EVENTS = "template."


def register() -> None:
    register_event_filter(TEMPLATE_EVENTS, every_member)
    on_template_change(fold_change)
