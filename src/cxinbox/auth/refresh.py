"""Sign-in sessions: an access token plus a rotating refresh token.

Each sign-in starts a family. Refreshing spends the presented token and issues the next one in the
same family. Presenting a token that was already spent means it was copied: the whole family is
revoked, so both the thief and the victim must sign in again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.credentials import ensure_can_sign_in
from cxinbox.auth.tokens import BY_CODE
from cxinbox.core.clock import utcnow
from cxinbox.core.crypto import random_token
from cxinbox.core.errors import Unauthorized
from cxinbox.core.ids import new_id
from cxinbox.models.identity import RefreshToken, User
from cxinbox.runtime import Runtime


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _access_token(runtime: Runtime, user: User, acting_org: str | None, *, by_code: bool = False) -> str:
    is_impersonation = acting_org is not None and acting_org != user.organization_id
    claims = {
        "sub": user.id,
        "org": acting_org or user.organization_id,
        "role": user.role.value,
        "imp": user.id if is_impersonation else None,
        "amr": BY_CODE if by_code else None,
    }
    return runtime.tokens.issue(claims, kind="access", ttl_seconds=runtime.settings.access_token_ttl_seconds)


def _new_refresh(
    session: AsyncSession, runtime: Runtime, user: User, family_id: str, acting_org: str | None
) -> str:
    raw = random_token()
    now = utcnow()
    session.add(
        RefreshToken(
            id=new_id(),
            user_id=user.id,
            family_id=family_id,
            token_hash=runtime.hasher.hash(raw),
            acting_organization_id=acting_org,
            created_at=now,
            expires_at=now + timedelta(seconds=runtime.settings.refresh_token_ttl_seconds),
        )
    )
    return raw


def start_session(
    session: AsyncSession,
    runtime: Runtime,
    user: User,
    *,
    acting_org: str | None = None,
    by_code: bool = False,
) -> TokenPair:
    """A new sign-in; ``by_code`` marks its access token as proof of a one-time code just verified."""
    refresh = _new_refresh(session, runtime, user, new_id(), acting_org)
    access = _access_token(runtime, user, acting_org, by_code=by_code)
    return TokenPair(access, refresh, runtime.settings.access_token_ttl_seconds)


async def rotate(session: AsyncSession, runtime: Runtime, raw_token: str) -> tuple[User, TokenPair]:
    record = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == runtime.hasher.hash(raw_token))
    )
    if record is None:
        raise Unauthorized("The refresh token is not valid")
    now = utcnow()
    if record.revoked_at is not None or record.expires_at <= now:
        raise Unauthorized("The refresh token is expired or revoked")
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == record.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_family(session, record.family_id)
        raise Unauthorized(
            "The refresh token was already used; all its sessions are revoked", keep_changes=True
        )
    user = await session.get(User, record.user_id)
    if user is None:
        raise Unauthorized("The account is not active")
    await ensure_can_sign_in(session, user)
    refresh = _new_refresh(session, runtime, user, record.family_id, record.acting_organization_id)
    access = _access_token(runtime, user, record.acting_organization_id)
    return user, TokenPair(access, refresh, runtime.settings.access_token_ttl_seconds)


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def revoke_user_sessions(
    session: AsyncSession, user_id: str, *, keep_family: str | None = None
) -> None:
    """Sign a user out everywhere (password change, deactivation), optionally but one family."""
    stmt = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep_family:
        stmt = stmt.where(RefreshToken.family_id != keep_family)
    await session.execute(stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


async def end_session(session: AsyncSession, runtime: Runtime, raw_token: str) -> None:
    """Signing out: the refresh token's whole family is revoked (an unknown token changes nothing)."""
    family_id = await session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == runtime.hasher.hash(raw_token))
    )
    if family_id is not None:
        await revoke_family(session, family_id)
