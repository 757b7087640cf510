"""Rules for tags: names unique within the organization (ignoring case), colors of the palette;
creating, changing and deleting a tag is written to the audit log; putting a tag on a conversation
or taking it off is a change of the conversation (event)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.conversations.events import publish_conversation
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.summary import reload
from cxinbox.core.errors import Conflict, NotFound, ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.inbox import Conversation
from cxinbox.models.tags import Tag
from cxinbox.tags.palette import DEFAULT_COLOR
from cxinbox.tags.repository import TagRepository
from cxinbox.tags.schemas import CreateTag, TagOut, UpdateTag


class TagNameTaken(Conflict):
    code = "TAG_NAME_TAKEN"
    message = "The organization already has a tag with this name"


async def list_tags(session: AsyncSession, tenant: TenantContext) -> Sequence[Tag]:
    return await TagRepository(session, tenant).all()


async def create_tag(session: AsyncSession, actor: Actor, body: CreateTag) -> Tag:
    tenant = actor.principal.tenant
    repo = TagRepository(session, tenant)
    await _ensure_name_free(repo, body.name)
    tag = repo.add(Tag(name=body.name, color=body.color or DEFAULT_COLOR))
    await repo.flush()
    _publish(session, tenant, "tag.created", tag)
    _audit(session, actor, "tag.created", tag, {"color": tag.color})
    return tag


async def update_tag(session: AsyncSession, actor: Actor, tag_id: str, body: UpdateTag) -> Tag:
    tenant = actor.principal.tenant
    repo = TagRepository(session, tenant)
    tag = await repo.get_or_404(tag_id)
    changes: dict[str, str] = {}
    if body.name is not None and body.name != tag.name:
        await _ensure_name_free(repo, body.name, excluding=tag.id)
        changes["name"] = body.name
    if body.color is not None and body.color != tag.color:
        changes["color"] = body.color
    for field, value in changes.items():
        setattr(tag, field, value)
    await repo.flush()
    _publish(session, tenant, "tag.updated", tag)
    if changes:
        _audit(session, actor, "tag.updated", tag, {"changes": changes})
    return tag


async def delete_tag(session: AsyncSession, actor: Actor, tag_id: str) -> None:
    """The tag leaves every conversation with it (the links cascade)."""
    tenant = actor.principal.tenant
    repo = TagRepository(session, tenant)
    tag = await repo.get_or_404(tag_id)
    await repo.delete(tag)
    await repo.flush()
    publish_event(session, tenant.organization_id, "tag.deleted", {"id": tag_id})
    _audit(session, actor, "tag.deleted", tag)


async def tag_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str, tag_id: str
) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    repo = TagRepository(session, principal.tenant)
    if await repo.get(tag_id) is None:
        raise ValidationFailed.field("tagId", "is not a tag of the organization")
    if await repo.link(conversation.id, tag_id, principal.user_id):
        return await _republish(session, conversation.id)
    return conversation


async def untag_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str, tag_id: str
) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    repo = TagRepository(session, principal.tenant)
    if await repo.get(tag_id) is None:
        raise NotFound(repo.not_found_message)
    if await repo.unlink(conversation.id, tag_id):
        return await _republish(session, conversation.id)
    return conversation


async def _republish(session: AsyncSession, conversation_id: str) -> Conversation:
    conversation = await reload(session, conversation_id)
    publish_conversation(session, conversation, "conversation.updated")
    return conversation


async def _ensure_name_free(repo: TagRepository, name: str, *, excluding: str | None = None) -> None:
    if await repo.named(name, excluding=excluding) is not None:
        raise TagNameTaken(details=[{"field": "name", "message": "already used by another tag"}])


def _audit(
    session: AsyncSession, actor: Actor, action: str, tag: Tag, details: dict[str, Any] | None = None
) -> None:
    actor.record(
        session, action, target_type="tag", target_id=tag.id, details={"name": tag.name, **(details or {})}
    )


def _publish(session: AsyncSession, tenant: TenantContext, type: str, tag: Tag) -> None:
    data = TagOut.model_validate(tag).model_dump(mode="json", by_alias=True)
    publish_event(session, tenant.organization_id, type, data)
