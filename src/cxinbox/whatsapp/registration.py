"""What the WhatsApp channel plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.plans.limits import WHATSAPP_NUMBERS, register_usage
from cxinbox.realtime.visibility import register_event_filter
from cxinbox.whatsapp import media, tasks  # noqa: F401 - their @job/@periodic register the webhook and media jobs
from cxinbox.whatsapp.alerts.events import ALERT_EVENT_PREFIX, agents_see_no_alerts
from cxinbox.whatsapp.outbound import delivery  # noqa: F401 - its @job/@periodic register sends and the outbox sweeper
from cxinbox.whatsapp.repository import count_live_accounts


def register() -> None:
    register_event_filter(ALERT_EVENT_PREFIX, agents_see_no_alerts)
    register_usage(WHATSAPP_NUMBERS)(count_live_accounts)
