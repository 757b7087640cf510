"""What the users area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.plans.limits import SEATS, register_usage
from cxinbox.realtime.visibility import every_member, register_event_filter
from cxinbox.users.seats import seats_in_use

USER_EVENTS = "user."


def register() -> None:
    register_event_filter(USER_EVENTS, every_member)
    register_usage(SEATS)(seats_in_use)
