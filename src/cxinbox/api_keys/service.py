from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.api_keys.repository import ApiKeyRepository
from cxinbox.api_keys.schemas import CreateApiKey, UpdateApiKey
from cxinbox.auth.credentials import API_KEY_PREFIX
from cxinbox.core.clock import utcnow
from cxinbox.core.crypto import TokenHasher
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import ApiKey


def _new_key() -> tuple[str, str]:
    """``cxk_<8 visible chars>_<secret>``; the visible prefix identifies the key in lists."""
    visible = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{visible}_{secrets.token_urlsafe(32)}", f"{API_KEY_PREFIX}{visible}"


def _ensure_future(expires_at: datetime | None) -> None:
    """An expiry is set ahead; to stop a key now, deactivate or delete it."""
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed.field("expiresAt", "must be in the future")


async def create(
    session: AsyncSession,
    tenant: TenantContext,
    hasher: TokenHasher,
    body: CreateApiKey,
    created_by: str | None,
) -> tuple[ApiKey, str]:
    _ensure_future(body.expires_at)
    key, prefix = _new_key()
    api_key = ApiKeyRepository(session, tenant).add(
        ApiKey(
            name=body.name.strip(),
            prefix=prefix,
            key_hash=hasher.hash(key),
            created_by_id=created_by,
            expires_at=body.expires_at,
            scopes=body.scopes,
        )
    )
    await session.flush()
    return api_key, key


async def update(session: AsyncSession, tenant: TenantContext, key_id: str, body: UpdateApiKey) -> ApiKey:
    api_key = await ApiKeyRepository(session, tenant).get_or_404(key_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        api_key.name = changes["name"].strip()
    if changes.get("is_active") is not None:
        api_key.is_active = changes["is_active"]
    if "expires_at" in changes:
        _ensure_future(changes["expires_at"])
        api_key.expires_at = changes["expires_at"]
    await session.flush()
    return api_key


async def delete(session: AsyncSession, tenant: TenantContext, key_id: str) -> None:
    repo = ApiKeyRepository(session, tenant)
    await repo.delete(await repo.get_or_404(key_id))
    await session.flush()
