from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, or_, select

from cxinbox.core.repository import TenantRepository
from cxinbox.models.templates import MessageTemplate, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.templates.schemas import TemplateFilter


class TemplateRepository(TenantRepository[MessageTemplate]):
    model = MessageTemplate
    not_found_message = "Template not found"

    def filtered(self, criteria: TemplateFilter) -> Select[MessageTemplate]:
        """``status`` None means APPROVED (what a picker needs); ``all`` every status but REMOVED."""
        stmt = self.select()
        if criteria.status is None:
            stmt = stmt.where(MessageTemplate.status == TemplateStatus.APPROVED)
        elif criteria.status == "all":
            stmt = stmt.where(MessageTemplate.status != TemplateStatus.REMOVED)
        else:
            stmt = stmt.where(MessageTemplate.status == criteria.status)
        if criteria.category is not None:
            stmt = stmt.where(MessageTemplate.category == criteria.category)
        if criteria.whatsapp_account_id:
            stmt = stmt.where(MessageTemplate.whatsapp_account_id == criteria.whatsapp_account_id)
        if criteria.search:
            term = (
                criteria.search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            stmt = stmt.where(func.lower(MessageTemplate.name).like(f"%{term}%", escape="\\"))
        return stmt.order_by(MessageTemplate.name, MessageTemplate.language, MessageTemplate.id)

    async def by_ids(self, ids: Iterable[str]) -> dict[str, MessageTemplate]:
        found = await self.list(self.select().where(MessageTemplate.id.in_(list(ids))))
        return {t.id: t for t in found}

    async def live_named(self, account_id: str, name: str, language: str) -> MessageTemplate | None:
        return await self.session.scalar(
            self.select().where(
                MessageTemplate.whatsapp_account_id == account_id,
                MessageTemplate.name == name,
                MessageTemplate.language == language,
                MessageTemplate.status != TemplateStatus.REMOVED,
            )
        )

    async def approved_named(self, account_id: str, name: str) -> list[MessageTemplate]:
        """The APPROVED templates called ``name`` on the account's business account (any of its
        numbers may send them)."""
        waba = select(WhatsAppAccount.waba_id).where(WhatsAppAccount.id == account_id).scalar_subquery()
        same_waba = select(WhatsAppAccount.id).where(WhatsAppAccount.waba_id == waba)
        stmt = self.select().where(
            MessageTemplate.name == name,
            MessageTemplate.status == TemplateStatus.APPROVED,
            or_(
                MessageTemplate.whatsapp_account_id == account_id,
                MessageTemplate.whatsapp_account_id.in_(same_waba),
            ),
        )
        return list(await self.list(stmt.order_by(MessageTemplate.language)))

    async def names_like(self, account_id: str, prefix: str) -> set[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(MessageTemplate.name).where(
            MessageTemplate.organization_id == self.tenant.organization_id,
            MessageTemplate.whatsapp_account_id == account_id,
            MessageTemplate.name.like(f"{escaped}%", escape="\\"),
            MessageTemplate.status != TemplateStatus.REMOVED,
        )
        return set(await self.session.scalars(stmt))
