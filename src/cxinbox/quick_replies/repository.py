from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, or_

from cxinbox.core.repository import TenantRepository
from cxinbox.models.quick_replies import QuickReply
from cxinbox.quick_replies.schemas import QuickReplyFilter


class QuickReplyRepository(TenantRepository[QuickReply]):
    model = QuickReply
    not_found_message = "Quick reply not found"

    def filtered(self, criteria: QuickReplyFilter) -> Select[QuickReply]:
        stmt = self.select()
        if criteria.is_active is not None:
            stmt = stmt.where(QuickReply.is_active.is_(criteria.is_active))
        if criteria.category is not None:
            stmt = stmt.where(QuickReply.category == criteria.category)
        if criteria.search:
            term = criteria.search.strip().lower()
            stmt = stmt.where(
                or_(
                    func.lower(QuickReply.title).contains(term, autoescape=True),
                    QuickReply.shortcut.contains(term, autoescape=True),
                )
            )
        return stmt.order_by(QuickReply.shortcut)

    async def listed(self, criteria: QuickReplyFilter) -> Sequence[QuickReply]:
        return await self.list(self.filtered(criteria))

    async def by_shortcut(self, shortcut: str) -> QuickReply | None:
        return await self.session.scalar(self.select().where(QuickReply.shortcut == shortcut))

    async def by_ids(self, ids: Iterable[str]) -> dict[str, QuickReply]:
        rows = await self.list(self.select().where(QuickReply.id.in_(list(ids))))
        return {r.id: r for r in rows}
