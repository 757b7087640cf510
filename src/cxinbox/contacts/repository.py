from __future__ import annotations

from cxinbox.conversations.queries import contact_matches
from cxinbox.core.pagination import KeysetOrder, cursor_page, parse_datetime
from cxinbox.core.repository import TenantRepository
from cxinbox.core.wire import CursorMeta
from cxinbox.models.inbox import Contact

NEWEST_FIRST = KeysetOrder([Contact.created_at, Contact.id], descending=True, decoders=[parse_datetime, str])


class ContactRepository(TenantRepository[Contact]):
    model = Contact
    not_found_message = "Contact not found"

    async def by_wa_id(self, wa_id: str) -> Contact | None:
        return await self.session.scalar(self.select().where(Contact.wa_id == wa_id))

    async def page(
        self, search: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Contact], CursorMeta]:
        stmt = self.select()
        if search:
            stmt = stmt.where(contact_matches(search))
        return await cursor_page(
            self.session, stmt, NEWEST_FIRST, cursor, limit, key=lambda c: (c.created_at, c.id)
        )
