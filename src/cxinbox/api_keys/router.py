from __future__ import annotations

from fastapi import APIRouter, status

from cxinbox.api_keys import service
from cxinbox.api_keys.repository import ApiKeyRepository
from cxinbox.api_keys.schemas import ApiKeyCreated, ApiKeyOut, CreateApiKey, UpdateApiKey
from cxinbox.auth.dependencies import AdminDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.wire import Deleted, Envelope

#: a key never mints, lists, changes or deletes keys (a leaked key must not make more)
router = APIRouter(prefix="/api-keys", tags=["api-keys"], dependencies=[NO_API_KEYS])


@router.get("", summary="List API keys for the organization (admin only)")
async def list_keys(principal: AdminDep, session: SessionDep) -> Envelope[list[ApiKeyOut]]:
    keys = await ApiKeyRepository(session, principal.tenant).all_newest_first()
    return Envelope(data=[ApiKeyOut.model_validate(k) for k in keys])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a new API key (admin only). Returns the full key ONCE.",
)
async def create_key(
    body: CreateApiKey, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ApiKeyCreated]:
    api_key, key = await service.create(session, principal.tenant, runtime.hasher, body, principal.user_id)
    return Envelope(
        data=ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(api_key).model_dump(), "key": key})
    )


@router.patch("/{id}", summary="Update an API key (admin only)")
async def update_key(
    id: str, body: UpdateApiKey, principal: AdminDep, session: SessionDep
) -> Envelope[ApiKeyOut]:
    api_key = await service.update(session, principal.tenant, id, body)
    return Envelope(data=ApiKeyOut.model_validate(api_key))


@router.delete("/{id}", summary="Delete an API key permanently (admin only)")
async def delete_key(id: str, principal: AdminDep, session: SessionDep) -> Envelope[Deleted]:
    await service.delete(session, principal.tenant, id)
    return Envelope(data=Deleted(id=id))
