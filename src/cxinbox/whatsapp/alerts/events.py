"""What the realtime stream carries about alerts, and who sees it: ADMIN and SUPERVISOR (an AGENT may
not read alerts, so its stream leaves them out)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.events import publish_event
from cxinbox.core.wire import iso_utc
from cxinbox.models.identity import Role
from cxinbox.models.whatsapp import AccountAlert
from cxinbox.realtime.visibility import EventPredicate
from cxinbox.whatsapp.alerts.schemas import AlertOut

ALERT_EVENT_PREFIX = "whatsapp_account.alert"
ALERT_CREATED = "whatsapp_account.alert.created"
ALERT_UPDATED = "whatsapp_account.alert.updated"
#: acknowledge-all: one event with the count, not one per alert
ALERTS_ACKNOWLEDGED = "whatsapp_account.alerts.acknowledged"


def alert_out(alert: AccountAlert) -> AlertOut:
    return AlertOut.model_validate(alert)


def publish_alert(session: AsyncSession, alert: AccountAlert, type: str) -> None:
    publish_event(
        session, alert.organization_id, type, alert_out(alert).model_dump(mode="json", by_alias=True)
    )


def publish_acknowledged_all(
    session: AsyncSession, organization_id: str, count: int, at: datetime, user_id: str | None
) -> None:
    data = {"count": count, "acknowledgedAt": iso_utc(at), "acknowledgedById": user_id}
    publish_event(session, organization_id, ALERTS_ACKNOWLEDGED, data)


async def agents_see_no_alerts(_session: AsyncSession, principal: Principal) -> EventPredicate:
    if principal.role != Role.AGENT:
        return lambda _event: True
    return lambda event: not event["type"].startswith(ALERT_EVENT_PREFIX)
