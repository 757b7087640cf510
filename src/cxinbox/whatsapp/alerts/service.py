"""Raising, listing and acknowledging account alerts.

Alerts are raised by the webhook processing (``alerts.webhooks``) and by anything that sees Meta
reject an account's token (``raise_token_alert``: the health check, and sending). Each alert is
inserted once per organization and source key (insert on conflict do nothing), so replays and
repeated failures raise nothing new; a new alert is published on the realtime stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphError
from cxinbox.auth.principal import Principal
from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new
from cxinbox.core.pagination import KeysetOrder, cursor_page, parse_datetime
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import CursorMeta
from cxinbox.models.whatsapp import AccountAlert, AccountStatus, AlertSeverity, WhatsAppAccount
from cxinbox.whatsapp.alerts.classify import AlertDraft
from cxinbox.whatsapp.alerts.events import (
    ALERT_CREATED,
    ALERT_UPDATED,
    publish_acknowledged_all,
    publish_alert,
)
from cxinbox.whatsapp.alerts.repository import AccountAlertRepository, AlertFilters
from cxinbox.whatsapp.alerts.schemas import UnreadCount

#: newest first; the id breaks ties between alerts raised in the same instant
FEED_ORDER = KeysetOrder(
    columns=(AccountAlert.created_at, AccountAlert.id), descending=True, decoders=(parse_datetime, str)
)


async def raise_alert(
    session: AsyncSession,
    account: WhatsAppAccount,
    draft: AlertDraft,
    *,
    source_key: str,
    details: dict[str, Any],
    occurred_at: datetime | None = None,
) -> AccountAlert | None:
    """The new alert on ``account``; None when this source key raised one for the organization before."""
    alert_id = await insert_new(
        session,
        AccountAlert,
        organization_id=account.organization_id,
        whatsapp_account_id=account.id,
        type=draft.type,
        severity=draft.severity,
        title=draft.title[:200],
        message=draft.message,
        details=details,
        source_key=source_key,
        occurred_at=occurred_at or utcnow(),
    )
    if alert_id is None:
        return None
    alert = await session.get_one(AccountAlert, alert_id)
    publish_alert(session, alert, ALERT_CREATED)
    return alert


async def raise_token_alert(
    session: AsyncSession, account: WhatsAppAccount, error: GraphError
) -> AccountAlert | None:
    """Meta rejected ``account``'s access token (Graph error 190): a connected account becomes
    TOKEN_INVALID (a disabled or deleted one stays so) and a CRITICAL alert is raised, once per stored
    token (a new token that fails again raises a new one). Any other error changes nothing, so
    callers may pass every Graph error they see."""
    if not error.is_auth_error:
        return None
    if account.status == AccountStatus.CONNECTED:
        account.status = AccountStatus.TOKEN_INVALID
    label = account.alias or account.display_phone_number or account.phone_number_id
    draft = AlertDraft(
        type="TOKEN_INVALID",
        severity=AlertSeverity.CRITICAL,
        title="Meta rejected the access token",
        message=f"{label}: {error.message}. Nothing can be sent until the account gets a new access token.",
    )
    token_fingerprint = hashlib.sha256(f"{account.id}:{account.access_token_encrypted}".encode()).hexdigest()
    return await raise_alert(
        session,
        account,
        draft,
        source_key=f"token:{token_fingerprint}",
        details={"source": "graph", "error": error.as_dict()},
    )


async def list_alerts(
    session: AsyncSession, tenant: TenantContext, filters: AlertFilters, cursor: str | None, limit: int
) -> tuple[Sequence[AccountAlert], CursorMeta]:
    stmt = AccountAlertRepository(session, tenant).filtered(filters)
    return await cursor_page(session, stmt, FEED_ORDER, cursor, limit, lambda a: (a.created_at, a.id))


async def unread_count(session: AsyncSession, tenant: TenantContext) -> UnreadCount:
    by_severity = await AccountAlertRepository(session, tenant).unread_by_severity()
    return UnreadCount(count=sum(by_severity.values()), by_severity=by_severity)


async def acknowledge(session: AsyncSession, principal: Principal, alert_id: str) -> AccountAlert:
    """Idempotent: an alert acknowledged before keeps who acknowledged it and when."""
    repo = AccountAlertRepository(session, principal.tenant)
    alert = await repo.get_or_404(alert_id)
    if await repo.mark_acknowledged(utcnow(), principal.user_id, alert_id=alert.id):
        await session.refresh(alert)
        publish_alert(session, alert, ALERT_UPDATED)
    return alert


async def acknowledge_all(session: AsyncSession, principal: Principal) -> int:
    tenant = principal.tenant
    at = utcnow()
    count = await AccountAlertRepository(session, tenant).mark_acknowledged(at, principal.user_id)
    if count:
        publish_acknowledged_all(session, tenant.organization_id, count, at, principal.user_id)
    return count
