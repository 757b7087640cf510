"""Turn a request's credential (bearer JWT, bearer API key or ``X-API-Key``) into a Principal.

A request's check reads the user (or key) and its organization, or takes a check this process made
earlier for the same credential when nothing it read has changed since (``auth.verified``), so
deactivation, role changes, a key's revocation and an organization's suspension take effect at once.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.auth.tokens import ACCESS, BY_CODE, TokenSigner
from cxinbox.auth.verified import VerifiedCredentials, generation
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Forbidden, Unauthorized
from cxinbox.models.identity import ApiKey, Organization, OrganizationStatus, Role, User
from cxinbox.runtime import Runtime

API_KEY_PREFIX = "cxk_"

#: each runtime's checked credentials (``auth.verified``)
_VERIFIED: weakref.WeakKeyDictionary[Runtime, VerifiedCredentials] = weakref.WeakKeyDictionary()


def verified_credentials(runtime: Runtime) -> VerifiedCredentials:
    """The credentials ``runtime`` checked and may take again without a read."""
    verified = _VERIFIED.get(runtime)
    if verified is None:
        verified = _VERIFIED[runtime] = VerifiedCredentials(runtime.settings.auth_cache_seconds)
    return verified


_BLOCKED_STATUS_CODES = {
    OrganizationStatus.SUSPENDED: "ORGANIZATION_SUSPENDED",
    OrganizationStatus.CANCELLED: "ORGANIZATION_CANCELLED",
}


def ensure_organization_usable(org: Organization) -> None:
    """A suspended or cancelled organization keeps its data but its people cannot use it."""
    code = _BLOCKED_STATUS_CODES.get(org.status)
    if code:
        raise Forbidden(f"The organization is {org.status.value.lower()}", code=code)


async def ensure_can_sign_in(session: AsyncSession, user: User) -> None:
    """Refuse a new session (login, code, refresh) to an inactive user or a blocked organization."""
    if not user.can_sign_in:
        raise Unauthorized("The account is not active")
    if user.organization_id is not None:
        org = await session.get(Organization, user.organization_id)
        if org is not None:
            ensure_organization_usable(org)


async def principal_from_token(
    session: AsyncSession, signer: TokenSigner, token: str, *, kind: str = ACCESS
) -> Principal:
    """Verify a signed token of ``kind`` and re-read who it names."""
    return await _principal_from_claims(session, signer.verify(token, kind=kind))


async def principal_from_access_token(runtime: Runtime, token: str) -> Principal:
    """A request's bearer access token: checked as ``principal_from_token`` does, in a read session
    of its own (a check writes nothing), unless this process checked it since the last change of
    what a check reads (``auth.verified``)."""
    verified = verified_credentials(runtime)
    known = verified.get(token)
    if known is not None:
        return known
    checked_at = generation()
    claims = runtime.tokens.verify(token, kind=ACCESS)
    async with runtime.read_session(current=True) as reader:
        principal = await _principal_from_claims(reader, claims)
    verified.put(token, principal, checked_at, datetime.fromtimestamp(int(claims["exp"]), UTC))
    return principal


async def reload_principal(session: AsyncSession, principal: Principal) -> Principal:
    """``principal`` as it stands now (for a long-lived connection opened earlier): raises as a new
    request would when the user or key is gone or inactive, or the organization is blocked."""
    return await _principal_from_claims(session, principal_claims(principal))


async def _user_with_organization(
    session: AsyncSession, user_id: Any
) -> tuple[User | None, Organization | None]:
    """The user and their organization in one read (every request makes it)."""
    if not isinstance(user_id, str):
        return None, None
    stmt = (
        select(User, Organization)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .where(User.id == user_id)
    )
    row = (await session.execute(stmt)).first()
    return (None, None) if row is None else (row[0], row[1])


async def _principal_from_claims(session: AsyncSession, claims: dict[str, Any]) -> Principal:
    if claims.get("akey"):
        return _api_key_principal(await _usable_api_key(session, ApiKey.id == claims["akey"], utcnow()))
    user, org = await _user_with_organization(session, claims.get("sub"))
    if user is None or not user.can_sign_in:
        raise Unauthorized("The account is not active")
    acting_org = claims.get("org")
    if user.role == Role.SUPER_ADMIN:
        if acting_org is not None and await session.get(Organization, acting_org) is None:
            raise Unauthorized("The organization no longer exists")
        return Principal(
            role=Role.SUPER_ADMIN,
            organization_id=acting_org,
            user_id=user.id,
            impersonator_id=user.id if acting_org else None,
        )
    if org is None:
        raise Unauthorized("The account is not active")
    ensure_organization_usable(org)
    return Principal(
        role=user.role,
        organization_id=org.id,
        user_id=user.id,
        signed_in_by_code_at=_code_sign_in_time(claims),
    )


def _code_sign_in_time(claims: dict[str, Any]) -> datetime | None:
    if claims.get("amr") != BY_CODE:
        return None
    return datetime.fromtimestamp(int(claims["iat"]), UTC)


def principal_claims(principal: Principal) -> dict[str, Any]:
    """Claims from which ``principal_from_token`` re-creates ``principal`` (for short-lived tokens)."""
    if principal.api_key_id:
        return {"akey": principal.api_key_id, "org": principal.organization_id}
    return {"sub": principal.user_id, "org": principal.organization_id, "role": principal.role.value}


async def principal_from_api_key(runtime: Runtime, key: str) -> Principal:
    """The key's principal. The use is counted in a unit of work of its own, committed before the
    request goes on, so it counts whether or not the request then succeeds, and a request that only
    reads holds no write transaction meanwhile. The increment is atomic: concurrent requests with
    one key never lose a count. A key this process checked since the last change of what a check
    reads (``auth.verified``) is only counted, on the condition that it is still active: a key
    deactivated or deleted elsewhere counts no use and is checked again."""
    now = utcnow()
    key_hash = runtime.hasher.hash(key)
    cache_key: Hashable = ("api-key", key_hash)
    verified = verified_credentials(runtime)
    known = verified.get(cache_key)
    checked_at = generation()
    async with runtime.unit_of_work() as session:
        if known is not None and await _count_use(session, known.api_key_id, now, still_active=True):
            return known
        verified.forget(cache_key)
        api_key = await _usable_api_key(session, ApiKey.key_hash == key_hash, now)
        await _count_use(session, api_key.id, now)
    principal = _api_key_principal(api_key)
    verified.put(cache_key, principal, checked_at, api_key.expires_at)
    return principal


async def _count_use(
    session: AsyncSession, key_id: str | None, now: datetime, *, still_active: bool = False
) -> bool:
    stmt = update(ApiKey).where(ApiKey.id == key_id)
    if still_active:
        stmt = stmt.where(ApiKey.is_active.is_(True))
    result = await session.execute(
        stmt.values(usage_count=ApiKey.usage_count + 1, last_used_at=now).execution_options(
            synchronize_session=False
        )
    )
    return bool(getattr(result, "rowcount", 0))


def _api_key_principal(api_key: ApiKey) -> Principal:
    """A key acts as an ADMIN of its organization within its scopes (checked per route)."""
    return Principal(
        role=Role.ADMIN,
        organization_id=api_key.organization_id,
        api_key_id=api_key.id,
        scopes=frozenset(api_key.scopes) if api_key.scopes is not None else None,
    )


async def _usable_api_key(session: AsyncSession, which: Any, now: datetime) -> ApiKey:
    row = (
        await session.execute(
            select(ApiKey, Organization)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .where(which)
        )
    ).first()
    if row is None:
        raise Unauthorized("The API key is not valid")
    api_key, org = row
    if not api_key.is_active or _expired(api_key.expires_at, now):
        raise Unauthorized("The API key is revoked or expired")
    ensure_organization_usable(org)
    return api_key


def _expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now
