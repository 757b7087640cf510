"""The failed-messages queue (admins): outbound messages that failed or wait for a retry, with
their delivery record; retry, discard, and both in bulk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.bulk import MAX_BULK_IDS, BulkFailure, BulkResult
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import AppError, Conflict, NotFound, ValidationFailed
from cxinbox.core.jobs import enqueue
from cxinbox.core.pagination import PageParams
from cxinbox.core.tenancy import TenantContext
from cxinbox.core.wire import RequestModel
from cxinbox.messages.events import publish_message_updated
from cxinbox.messages.schemas import BulkMessages, ErrorCodeCount, FailedMessageOut, FailedStats
from cxinbox.messages.serializers import message_out
from cxinbox.models.inbox import Contact, Conversation, Direction, Message, MessageStatus
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound.compose import WindowClosed, window_open
from cxinbox.whatsapp.outbound.delivery import deliver_message
from cxinbox.whatsapp.outbound.refusal import send_refusal

#: messages read for the per-code statistics (the newest ones)
STATS_SAMPLE = 10_000


class MessageNotFailed(Conflict):
    code = "MESSAGE_NOT_FAILED"
    message = "The message is not failed or waiting for a retry"


class MessageDiscarded(Conflict):
    code = "MESSAGE_DISCARDED"
    message = "The message was discarded: that is final, send a new message instead"


class FailedFilter(RequestModel):
    status: Literal["FAILED", "PENDING"] | None = Field(
        default=None, description="FAILED, or PENDING (waiting for an automatic retry); both when absent"
    )
    permanent: bool | None = None
    template_name: str | None = None
    search: str | None = Field(default=None, max_length=200)


Row = tuple[Message, OutboxEntry, Contact]

_FAILED = and_(Message.status == MessageStatus.FAILED, OutboxEntry.state != OutboxState.DISCARDED)
_WAITING = and_(
    Message.status == MessageStatus.PENDING,
    OutboxEntry.attempts > 0,
    OutboxEntry.state.in_((OutboxState.QUEUED, OutboxState.SENDING)),
)


#: outbox states of a message whose delivery (or its automatic retry) is still running
_ON_ITS_WAY = (OutboxState.QUEUED, OutboxState.SENDING)


def _queue(tenant: TenantContext) -> Select[Message, OutboxEntry, Contact]:
    return (
        select(Message, OutboxEntry, Contact)
        .join(OutboxEntry, OutboxEntry.message_id == Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Message.organization_id == tenant.organization_id, Message.direction == Direction.OUTBOUND)
    )


def _filtered(tenant: TenantContext, criteria: FailedFilter) -> Select[Message, OutboxEntry, Contact]:
    by_status = {"FAILED": _FAILED, "PENDING": _WAITING, None: or_(_FAILED, _WAITING)}
    stmt = _queue(tenant).where(by_status[criteria.status])
    if criteria.permanent is not None:
        stmt = stmt.where(OutboxEntry.permanent.is_(criteria.permanent))
    if criteria.template_name:
        stmt = stmt.where(OutboxEntry.template_name == criteria.template_name)
    if criteria.search and criteria.search.strip():
        term = f"%{criteria.search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Message.text).like(term),
                func.lower(Contact.name).like(term),
                Contact.phone.like(term),
                Contact.wa_id.like(term),
            )
        )
    return stmt.order_by(Message.created_at.desc(), Message.id.desc())


def failed_out(runtime: Runtime, row: Row) -> FailedMessageOut:
    message, entry, contact = row
    return FailedMessageOut(
        **message_out(runtime, message).model_dump(),
        contact_name=contact.name,
        contact_phone=contact.phone,
        whatsapp_account_id=entry.whatsapp_account_id,
        attempts=entry.attempts,
        next_attempt_at=entry.next_attempt_at if entry.state is OutboxState.QUEUED else None,
        permanent=entry.permanent,
        last_error=entry.last_error,
        template_name=entry.template_name,
        delivery_state=entry.state,
    )


async def list_failed(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, criteria: FailedFilter, page: PageParams
) -> tuple[list[FailedMessageOut], int]:
    stmt = _filtered(tenant, criteria)
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.execute(stmt.limit(page.limit).offset(page.offset))).all()
    return [failed_out(runtime, (message, entry, contact)) for message, entry, contact in rows], int(
        total or 0
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def stats(session: AsyncSession, tenant: TenantContext) -> FailedStats:
    since = utcnow() - timedelta(hours=24)
    counts = (
        await session.execute(
            select(
                _count(_FAILED),
                _count(_WAITING),
                _count(and_(_FAILED, OutboxEntry.permanent.is_(True))),
                _count(and_(_FAILED, OutboxEntry.permanent.is_(False))),
                _count(OutboxEntry.state == OutboxState.DISCARDED),
                _count(and_(_FAILED, Message.status_at >= since)),
            )
            .select_from(Message)
            .join(OutboxEntry, OutboxEntry.message_id == Message.id)
            .where(Message.organization_id == tenant.organization_id)
        )
    ).one()
    errors = await session.scalars(
        select(Message.error)
        .join(OutboxEntry, OutboxEntry.message_id == Message.id)
        .where(Message.organization_id == tenant.organization_id, _FAILED)
        .order_by(Message.created_at.desc())
        .limit(STATS_SAMPLE)
    )
    by_code = Counter((error or {}).get("code") for error in errors)
    failed, pending, permanent, retryable, discarded, recent = (int(n) for n in counts)
    return FailedStats(
        failed=failed,
        pending=pending,
        permanent=permanent,
        retryable=retryable,
        discarded=discarded,
        last_24_hours=recent,
        by_error_code=[
            ErrorCodeCount(code=code if isinstance(code, int) else None, count=n)
            for code, n in by_code.most_common()
        ],
    )


# --- retry and discard ------------------------------------------------------------------------------


async def _locked_row(session: AsyncSession, tenant: TenantContext, message_id: str) -> Row:
    row = (
        await session.execute(
            _queue(tenant)
            .where(Message.id == message_id)
            .with_for_update(of=[Message, OutboxEntry])
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFound("Message not found")
    message, entry, contact = row
    return message, entry, contact


async def retry(session: AsyncSession, runtime: Runtime, tenant: TenantContext, message_id: str) -> Row:
    """Send a FAILED message again, at once, with a fresh retry budget.

    Only a FAILED message is retried: a discarded one is final (409 ``MESSAGE_DISCARDED``), and one
    that is still on its way (PENDING, whether its automatic retries are running or not) is left
    alone (409 ``MESSAGE_NOT_FAILED``), so a retry never resets a schedule that is running. Refused
    while its number cannot send (disconnected, or its account disabled or deleted) and, for a
    free-form message, outside the 24-hour window."""
    row = await _locked_row(session, tenant, message_id)
    message, entry, _ = row
    if entry.state is OutboxState.DISCARDED:
        raise MessageDiscarded()
    if message.status is not MessageStatus.FAILED or entry.state in _ON_ITS_WAY:
        raise MessageNotFailed(
            "Only a failed message can be retried", details={"status": message.status.value}
        )
    account = await session.get_one(WhatsAppAccount, entry.whatsapp_account_id)
    if (refusal := send_refusal(account.status)) is not None:
        raise refusal
    if entry.template_name is None:
        conversation = await session.get_one(Conversation, message.conversation_id)
        if not window_open(conversation):
            raise WindowClosed()
    now = utcnow()
    entry.state, entry.next_attempt_at, entry.locked_until = OutboxState.QUEUED, now, None
    entry.attempts, entry.permanent = 0, False
    # a new send gets a new wamid; statuses of the old one must not fail the new attempt
    message.status, message.status_at, message.error, message.wa_message_id = (
        MessageStatus.PENDING,
        now,
        None,
        None,
    )
    await publish_message_updated(session, runtime, message)
    enqueue(session, deliver_message, outbox_id=entry.id)
    return row


async def discard(session: AsyncSession, runtime: Runtime, tenant: TenantContext, message_id: str) -> Row:
    """Give up on a message: it leaves the queue and is not retried (a waiting one fails now)."""
    row = await _locked_row(session, tenant, message_id)
    message, entry, _ = row
    if entry.state is OutboxState.DISCARDED:
        return row
    waiting = (
        message.status is MessageStatus.PENDING and entry.state is OutboxState.QUEUED and entry.attempts > 0
    )
    if message.status is not MessageStatus.FAILED and not waiting:
        raise MessageNotFailed()
    entry.state, entry.locked_until = OutboxState.DISCARDED, None
    if waiting:
        message.status, message.status_at = MessageStatus.FAILED, utcnow()
        message.error = entry.last_error or {"code": None, "message": "Discarded before it was sent"}
        await publish_message_updated(session, runtime, message)
    return row


Action = Callable[[AsyncSession, Runtime, TenantContext, str], Awaitable[Row]]


async def bulk(
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    body: BulkMessages,
    action: Action,
    name: str,
) -> BulkResult:
    ids = await _selected_ids(session, tenant, body)
    result = BulkResult(action=name, requested=len(ids), succeeded=0)
    for message_id in ids:
        try:  # every refusal happens before a change, so a failed item leaves nothing behind
            await action(session, runtime, tenant, message_id)
        except AppError as exc:
            result.failed.append(BulkFailure(id=message_id, code=exc.code, message=exc.message))
            continue
        result.succeeded += 1
        result.succeeded_ids.append(message_id)
    return result


async def _selected_ids(session: AsyncSession, tenant: TenantContext, body: BulkMessages) -> list[str]:
    if body.message_ids is not None:
        return list(dict.fromkeys(body.message_ids))
    assert body.selection is not None
    if body.selection.mode == "ids":
        return list(dict.fromkeys(body.selection.ids or []))
    try:
        criteria = FailedFilter.model_validate(body.selection.filter or {})
    except ValueError as exc:
        raise ValidationFailed.field("selection.filter", str(exc).splitlines()[0]) from exc
    stmt = _filtered(tenant, criteria).with_only_columns(Message.id).limit(MAX_BULK_IDS)
    return list(await session.scalars(stmt))
