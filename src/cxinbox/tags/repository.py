from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func

from cxinbox.core.db import dialect_insert
from cxinbox.core.ids import new_id
from cxinbox.core.repository import TenantRepository
from cxinbox.models.tags import ConversationTag, Tag


class TagRepository(TenantRepository[Tag]):
    model = Tag
    not_found_message = "Tag not found"

    async def all(self) -> Sequence[Tag]:
        return await self.list(self.select().order_by(func.lower(Tag.name), Tag.id))

    async def named(self, name: str, *, excluding: str | None = None) -> Tag | None:
        """The tag called ``name``, ignoring case."""
        stmt = self.select().where(func.lower(Tag.name) == name.lower())
        if excluding is not None:
            stmt = stmt.where(Tag.id != excluding)
        return await self.session.scalar(stmt.limit(1))

    async def link(self, conversation_id: str, tag_id: str, added_by_id: str | None) -> bool:
        """Put the tag on the conversation; False when it was there already."""
        insert = dialect_insert(self.session)
        created = await self.session.scalar(
            insert(ConversationTag)
            .values(
                id=new_id(),
                organization_id=self.tenant.organization_id,
                conversation_id=conversation_id,
                tag_id=tag_id,
                added_by_id=added_by_id,
            )
            .on_conflict_do_nothing()
            .returning(ConversationTag.id)
        )
        return created is not None

    async def unlink(self, conversation_id: str, tag_id: str) -> bool:
        result = await self.session.execute(
            delete(ConversationTag).where(
                ConversationTag.organization_id == self.tenant.organization_id,
                ConversationTag.conversation_id == conversation_id,
                ConversationTag.tag_id == tag_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
