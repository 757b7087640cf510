"""Rules for a user's own profile."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.auth.refresh import TokenPair
from cxinbox.core.crypto import random_token
from cxinbox.core.db import after_commit
from cxinbox.core.errors import PayloadTooLarge, Unauthorized, UnsupportedMediaType
from cxinbox.files.images import sniff_image
from cxinbox.models.identity import Language, User
from cxinbox.runtime import Runtime
from cxinbox.sign_in.service import replace_password, verify_current_password
from cxinbox.users.service import publish_user

MAX_AVATAR_BYTES = 2 * 1024 * 1024
AVATAR_PREFIX = "public/avatars/"


async def own_user(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.require_user())
    if user is None or not user.can_sign_in:
        raise Unauthorized("The account is not active")
    return user


async def rename(session: AsyncSession, runtime: Runtime, principal: Principal, name: str) -> User:
    user = await own_user(session, principal)
    user.name = name.strip()
    await publish_user(session, runtime, principal.tenant, "user.updated", user)
    return user


async def choose_language(
    session: AsyncSession, runtime: Runtime, principal: Principal, language: Language | None
) -> User:
    user = await own_user(session, principal)
    if user.language != language:
        user.language = language
        await publish_user(session, runtime, principal.tenant, "user.updated", user)
    return user


async def set_avatar(session: AsyncSession, runtime: Runtime, principal: Principal, data: bytes) -> User:
    """Store a PNG, JPEG, GIF or WebP picture (recognised by its bytes) under a new key, so that
    caches of the previous URL never show the wrong picture."""
    if len(data) > MAX_AVATAR_BYTES:
        raise PayloadTooLarge(f"The avatar exceeds {MAX_AVATAR_BYTES} bytes")
    image = sniff_image(data)
    if image is None:
        raise UnsupportedMediaType("The avatar must be a PNG, JPEG, GIF or WebP image")
    user = await own_user(session, principal)
    key = f"{AVATAR_PREFIX}{user.id}/{random_token(12)}.{image.extension}"
    await runtime.storage.save(key, data, image.content_type)
    _replace_avatar(session, runtime, user, key)
    await publish_user(session, runtime, principal.tenant, "user.updated", user)
    return user


async def remove_avatar(session: AsyncSession, runtime: Runtime, principal: Principal) -> User:
    user = await own_user(session, principal)
    if user.avatar_key is not None:
        _replace_avatar(session, runtime, user, None)
        await publish_user(session, runtime, principal.tenant, "user.updated", user)
    return user


def _replace_avatar(session: AsyncSession, runtime: Runtime, user: User, key: str | None) -> None:
    """Point the user at ``key``; the previous file is deleted once that is committed."""
    previous, user.avatar_key = user.avatar_key, key
    if previous is not None:
        after_commit(session, lambda: runtime.storage.delete(previous))


async def change_password(
    session: AsyncSession, runtime: Runtime, principal: Principal, current: str, new: str
) -> tuple[User, TokenPair]:
    """Check the current password (wrong attempts count like failed logins), then replace it, which
    signs the user out everywhere but the fresh session answered."""
    user = await own_user(session, principal)
    await verify_current_password(runtime, user, current)
    return user, await replace_password(session, runtime, user, new)
