from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.contacts import service
from cxinbox.contacts.schemas import ContactOut, UpdateContact
from cxinbox.core.pagination import MAX_LIMIT
from cxinbox.core.wire import CursorEnvelope, Envelope

router = APIRouter(prefix="/contacts", tags=["contacts"], dependencies=[key_scope(Area.CONTACTS)])

WaId = Annotated[str, Path(alias="waId", max_length=128, description="The contact's WhatsApp id")]


@router.get(
    "",
    summary="List/search contacts",
    description="Newest first, cursor pagination. `search` matches the name (ignoring case) or the "
    "number (its digits: `+972 98-765` finds `972987654321`).",
)
async def list_contacts(
    principal: MemberDep,
    session: ReadSessionDep,
    search: str | None = Query(None, min_length=1, max_length=200),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> CursorEnvelope[ContactOut]:
    term = (search or "").strip() or None
    contacts, meta = await service.list_contacts(session, principal.tenant, term, cursor, limit)
    return CursorEnvelope(data=[ContactOut.model_validate(c) for c in contacts], meta=meta)


@router.get("/{waId}", summary="Get contact by WhatsApp ID")
async def get_contact(wa_id: WaId, principal: MemberDep, session: ReadSessionDep) -> Envelope[ContactOut]:
    return Envelope(
        data=ContactOut.model_validate(await service.get_contact(session, principal.tenant, wa_id))
    )


@router.patch(
    "/{waId}",
    summary="Update contact name or category",
    description="`{name?, category?}`: only the fields sent change. A name set here is kept when the "
    "customer's WhatsApp profile name changes (`profileName` follows the profile); `name: null` "
    "goes back to the profile name. `category: null` clears the category.",
)
async def update_contact(
    wa_id: WaId, body: UpdateContact, principal: MemberDep, session: SessionDep
) -> Envelope[ContactOut]:
    contact = await service.update_contact(session, principal.tenant, wa_id, body)
    return Envelope(data=ContactOut.model_validate(contact))
