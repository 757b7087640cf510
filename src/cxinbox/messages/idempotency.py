"""``Idempotency-Key``: a retried request with the same key gets the first one's status and body,
and does nothing again.

The key (scoped to the organization, kept 24 hours) is reserved at the start of the request's
transaction and its answer stored before commit. A concurrent request with the same key waits on
the unique index until the first commits, then replays its answer; if the first rolled back (it
failed), the second does the work. A key sent again with a different request is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert
from cxinbox.core.errors import Conflict, ValidationFailed
from cxinbox.core.ids import new_id
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.outbound import IdempotencyKey

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used for a different request"


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {REPLAYED_HEADER: "true"} if self.replayed else None
        return JSONResponse(self.body, status_code=self.status_code, headers=headers)


def fingerprint(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


async def once(
    session: AsyncSession,
    tenant: TenantContext,
    key: str | None,
    request_fingerprint: str,
    work: Callable[[], Awaitable[Answer]],
) -> Answer:
    """Run ``work`` unless ``key`` already has an answer; without a key, just run it."""
    if key is None:
        return await work()
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.field("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    stored = await _reserve(session, tenant.organization_id, key, request_fingerprint)
    if stored is not None:
        return stored
    answer = await work()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.organization_id == tenant.organization_id, IdempotencyKey.key == key)
        .values(status_code=answer.status_code, response=answer.body)
        .execution_options(synchronize_session=False)
    )
    return answer


async def _reserve(
    session: AsyncSession, organization_id: str, key: str, request_fingerprint: str
) -> Answer | None:
    """Reserve ``key``; when it was used before, the answer it got."""
    now = utcnow()
    same_key = (IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key)
    await session.execute(delete(IdempotencyKey).where(*same_key, IdempotencyKey.expires_at <= now))
    insert = dialect_insert(session)
    reserved = await session.scalar(
        insert(IdempotencyKey)
        .values(
            id=new_id(),
            organization_id=organization_id,
            key=key,
            fingerprint=request_fingerprint,
            expires_at=now + KEY_TTL,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.id)
    )
    if reserved is not None:
        return None
    first = (
        await session.scalars(
            select(IdempotencyKey).where(*same_key).execution_options(populate_existing=True)
        )
    ).one()
    if first.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    if first.status_code is None or first.response is None:
        raise Conflict("A request with this Idempotency-Key is still in progress")
    return Answer(first.status_code, first.response, replayed=True)


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
