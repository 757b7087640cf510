"""Contacts are the organization's customer directory: every member may find and rename them (the
conversations with them follow the inbox's visibility rule)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.contacts.repository import ContactRepository
from cxinbox.contacts.schemas import ContactOut, UpdateContact
from cxinbox.core.errors import NotFound
from cxinbox.core.events import publish_event
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import CursorMeta
from cxinbox.models.inbox import Contact


async def list_contacts(
    session: AsyncSession, tenant: TenantContext, search: str | None, cursor: str | None, limit: int
) -> tuple[list[Contact], CursorMeta]:
    return await ContactRepository(session, tenant).page(search, cursor, limit)


async def get_contact(session: AsyncSession, tenant: TenantContext, wa_id: str) -> Contact:
    contact = await ContactRepository(session, tenant).by_wa_id(wa_id)
    if contact is None:
        raise NotFound(ContactRepository.not_found_message)
    return contact


async def update_contact(
    session: AsyncSession, tenant: TenantContext, wa_id: str, body: UpdateContact
) -> Contact:
    """A name set here stays (webhooks only update ``profile_name``); ``name: null`` gives the
    contact its WhatsApp profile name back."""
    contact = await get_contact(session, tenant, wa_id)
    if "name" in body.model_fields_set:
        contact.name_edited = body.name is not None
        contact.name = body.name.strip() if body.name is not None else contact.profile_name
    if "category" in body.model_fields_set:
        contact.category = body.category.strip() if body.category is not None else None
    await session.flush()
    data = ContactOut.model_validate(contact).model_dump(mode="json", by_alias=True)
    publish_event(session, tenant.organization_id, "contact.updated", data)
    return contact
