"""Queries of campaigns and their recipients, scoped to the organization."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, case, func, select

from cxinbox.campaigns.schemas import CampaignFilter, Counts
from cxinbox.core.repository import TenantRepository
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus

#: statuses a recipient has reached or passed (``counts`` are cumulative: a READ recipient was sent
#: and delivered too)
REACHED: dict[str, tuple[RecipientStatus, ...]] = {
    "PENDING": (RecipientStatus.PENDING, RecipientStatus.SENDING),
    "SENT": (RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ),
    "DELIVERED": (RecipientStatus.DELIVERED, RecipientStatus.READ),
    "READ": (RecipientStatus.READ,),
    "FAILED": (RecipientStatus.FAILED,),
    "UNKNOWN": (RecipientStatus.UNKNOWN,),
}


def recipient_filter(status: str) -> ColumnElement[bool] | None:
    """A recipient list's ``status`` filter: the recipients at that status now (SENDING shows as
    PENDING), or those who replied (``REPLIED``); None for ``all``."""
    if status == "all":
        return None
    if status == "REPLIED":
        return CampaignRecipient.replied_at.is_not(None)
    if status == "PENDING":
        return CampaignRecipient.status.in_(REACHED["PENDING"])
    return CampaignRecipient.status == RecipientStatus(status)


def _counting(statuses: tuple[RecipientStatus, ...]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((CampaignRecipient.status.in_(statuses), 1), else_=0)), 0)


def counts_columns() -> tuple[ColumnElement[int], ...]:
    return (
        func.count(CampaignRecipient.id),
        _counting(REACHED["PENDING"]),
        _counting(REACHED["SENT"]),
        _counting(REACHED["DELIVERED"]),
        _counting(REACHED["READ"]),
        _counting(REACHED["FAILED"]),
        _counting(REACHED["UNKNOWN"]),
        func.count(CampaignRecipient.replied_at),
    )


def counts_of_row(row: Iterable[int]) -> Counts:
    total, pending, sent, delivered, read, failed, unknown, replied = (int(v or 0) for v in row)
    return Counts(
        total=total,
        pending=pending,
        sent=sent,
        delivered=delivered,
        read=read,
        failed=failed,
        unknown=unknown,
        replied=replied,
    )


class CampaignRepository(TenantRepository[Campaign]):
    model = Campaign
    not_found_message = "Campaign not found"

    def filtered(self, criteria: CampaignFilter) -> Select[Campaign]:
        stmt = self.select()
        if criteria.status is not None:
            stmt = stmt.where(Campaign.status == criteria.status)
        return stmt.order_by(Campaign.created_at.desc(), Campaign.id.desc())

    async def by_ids(self, ids: Iterable[str]) -> dict[str, Campaign]:
        found = await self.list(self.select().where(Campaign.id.in_(list(ids))))
        return {c.id: c for c in found}

    async def counts(self, campaign_ids: list[str]) -> dict[str, Counts]:
        """Recipient counts of each campaign, in one query."""
        if not campaign_ids:
            return {}
        stmt = (
            select(CampaignRecipient.campaign_id, *counts_columns())
            .where(
                CampaignRecipient.organization_id == self.tenant.organization_id,
                CampaignRecipient.campaign_id.in_(campaign_ids),
            )
            .group_by(CampaignRecipient.campaign_id)
        )
        found = {row[0]: counts_of_row(row[1:]) for row in await self.session.execute(stmt)}
        empty = Counts(total=0, pending=0, sent=0, delivered=0, read=0, failed=0, unknown=0, replied=0)
        return {cid: found.get(cid, empty) for cid in campaign_ids}

    async def all_counts(self) -> Counts:
        stmt = select(*counts_columns()).where(
            CampaignRecipient.organization_id == self.tenant.organization_id
        )
        return counts_of_row((await self.session.execute(stmt)).one())

    def recipients(self, campaign_id: str, status: str) -> Select[CampaignRecipient]:
        stmt = select(CampaignRecipient).where(
            CampaignRecipient.organization_id == self.tenant.organization_id,
            CampaignRecipient.campaign_id == campaign_id,
        )
        if (condition := recipient_filter(status)) is not None:
            stmt = stmt.where(condition)
        return stmt.order_by(CampaignRecipient.position)
