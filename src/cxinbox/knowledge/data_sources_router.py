from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.knowledge import data_sources
from cxinbox.knowledge.data_source_schemas import (
    DataSourceIn,
    DataSourceOut,
    DataSourceTest,
    SourceData,
    SourceTestOut,
)
from cxinbox.models.identity import Role

router = APIRouter(prefix="/inbox-data-sources", tags=["inbox-data-sources"])

_ADMIN = "Admins only (403 otherwise)."
AdminActor = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
MemberActor = Annotated[Actor, Depends(acting_as(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]


@router.get(
    "",
    summary="List inbox data sources",
    description="In the order they are shown (`order`, then name). Every member.",
    dependencies=[NO_API_KEYS],
)
async def list_sources(actor: MemberActor, session: ReadSessionDep) -> Envelope[list[DataSourceOut]]:
    items = await data_sources.list_sources(session, actor.principal)
    return Envelope(data=[data_sources.present(s) for s in items])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an inbox data source (admin only)",
    description="A request on one of the organization's connections (`connectionId`; 404 when it is "
    "not one), filled with the contact's number, and the `fields` shown from its answer. Templates may "
    f"use only the variables of `path`'s description (400 otherwise). {_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def create_source(
    body: DataSourceIn, editor: AdminActor, session: SessionDep
) -> Envelope[DataSourceOut]:
    return Envelope(data=data_sources.present(await data_sources.create(session, editor, body)))


@router.put(
    "/{id}",
    summary="Update an inbox data source (admin only)",
    description=f"The whole source, as created; its cached answers are not used again. {_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def update_source(
    id: str, body: DataSourceIn, editor: AdminActor, session: SessionDep
) -> Envelope[DataSourceOut]:
    return Envelope(data=data_sources.present(await data_sources.update(session, editor, id, body)))


@router.delete(
    "/{id}",
    summary="Delete an inbox data source (admin only)",
    description=_ADMIN,
    dependencies=[NO_API_KEYS],
)
async def delete_source(id: str, editor: AdminActor, session: SessionDep) -> Envelope[Deleted]:
    await data_sources.delete(session, editor, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/{id}/test",
    summary="Test a data source with a phone number (admin only)",
    description="`{phone}` (10 digits, or a full number with its country code; 400 otherwise): the "
    "fields as `/data` shows them, past the cache and whether the source is active, with the "
    "service's `httpStatus` and `latencyMs`. A failing service is `status: ERROR` in a 200. "
    f"{_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def test_source(
    id: str, body: DataSourceTest, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[SourceTestOut]:
    return Envelope(data=await data_sources.test(session, runtime, editor, id, body))


@router.get(
    "/data/{conversationId}",
    summary="Fetch external data for a conversation's contact (all roles)",
    description="Each active source's fields for the contact's number, in a conversation the caller "
    "sees (404 otherwise): `OK`, `NOT_FOUND` or `ERROR` per source (a failing service never fails "
    "the request). Answers are reused for the source's `cacheTtlSeconds` (`cached: true`); `force` "
    "asks again.",
    dependencies=[key_scope(Area.CONVERSATIONS)],
)
async def conversation_data(
    conversation_id: Annotated[str, Path(alias="conversationId")],
    actor: MemberActor,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    force: Annotated[bool, Query(description="Ask every service again, past the cache")] = False,
) -> Envelope[list[SourceData]]:
    found = await data_sources.data_for_conversation(
        session, runtime, actor.principal, conversation_id, force=force
    )
    return Envelope(data=found)
