"""Queries of account alerts (always within one organization)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update

from cxinbox.core.repository import TenantRepository
from cxinbox.models.whatsapp import AccountAlert, AlertSeverity


@dataclass(frozen=True)
class AlertFilters:
    acknowledged: bool | None = None
    severity: AlertSeverity | None = None
    type: str | None = None
    account_id: str | None = None


class AccountAlertRepository(TenantRepository[AccountAlert]):
    model = AccountAlert
    not_found_message = "Alert not found"

    def filtered(self, filters: AlertFilters) -> Select[AccountAlert]:
        stmt = self.select()
        if filters.acknowledged is not None:
            acknowledged_at = AccountAlert.acknowledged_at
            stmt = stmt.where(
                acknowledged_at.is_not(None) if filters.acknowledged else acknowledged_at.is_(None)
            )
        if filters.severity is not None:
            stmt = stmt.where(AccountAlert.severity == filters.severity)
        if filters.type is not None:
            stmt = stmt.where(AccountAlert.type == filters.type)
        if filters.account_id is not None:
            stmt = stmt.where(AccountAlert.whatsapp_account_id == filters.account_id)
        return stmt

    async def unread_by_severity(self) -> dict[AlertSeverity, int]:
        stmt = self.scoped(
            select(AccountAlert.severity, func.count())
            .where(AccountAlert.acknowledged_at.is_(None))
            .group_by(AccountAlert.severity)
        )
        counts = {severity: 0 for severity in AlertSeverity}
        for severity, count in await self.session.execute(stmt):
            counts[AlertSeverity(severity)] = int(count)
        return counts

    async def mark_acknowledged(self, at: datetime, user_id: str | None, alert_id: str | None = None) -> int:
        """Acknowledge the unacknowledged alerts (only ``alert_id`` when given) in one statement, so
        concurrent callers never acknowledge one alert twice; returns how many it acknowledged."""
        stmt = update(AccountAlert).where(
            AccountAlert.organization_id == self.tenant.organization_id,
            AccountAlert.acknowledged_at.is_(None),
        )
        if alert_id is not None:
            stmt = stmt.where(AccountAlert.id == alert_id)
        result = await self.session.execute(
            stmt.values(acknowledged_at=at, acknowledged_by_id=user_id, updated_at=at).execution_options(
                synchronize_session=False
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
