"""The delivery job: claim an outbox row, pace it, call the Graph API, record what happened.

A row is claimed with one atomic UPDATE (QUEUED and due, or SENDING with an expired lease), so a
send runs once however many kicks arrive; the Graph call runs outside any transaction. A retryable
error puts the row back on a durable schedule (exponential backoff with jitter); any other error, or
the last attempt, fails the message with Meta's error. The sweeper re-kicks rows left behind.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import Queue, enqueue, enqueue_later, job
from cxinbox.core.scheduler import periodic
from cxinbox.messages.events import publish_message_updated
from cxinbox.models.inbox import Message, MessageStatus
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.statuses import RANK, apply_pending_statuses
from cxinbox.whatsapp.outbound import governor
from cxinbox.whatsapp.outbound.refusal import send_refusal
from cxinbox.whatsapp.repository import locked_message

log = structlog.get_logger(__name__)

#: a claimed row whose worker has not reported back after this long is sent again
CLAIM_LEASE = timedelta(seconds=90)
MAX_SEND_ATTEMPTS = 8
MAX_RETRY_DELAY_SECONDS = 300.0
#: Meta's pair rate limit is about one message every 6 seconds to one user
PAIR_RATE_LIMIT_CODE = 131056
PAIR_BACKOFF_SECONDS = 6.0
#: Meta asking the number (130429) or the app (80007) to slow down: the number waits as a whole
THROTTLE_CODES = frozenset({130429, 80007})
#: a throttled send slows down rather than fails: it may take this many attempts
MAX_THROTTLED_ATTEMPTS = 30
#: a due row is swept only after this grace, so the sweeper does not race the job queued at commit
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Claim:
    outbox_id: str
    message_id: str
    organization_id: str
    phone_number_id: str
    access_token: str | None
    account_status: AccountStatus
    recipient: str
    payload: dict[str, Any]
    media_storage_key: str | None
    #: a reply to the development simulator: recorded as sent, no Graph call
    simulated: bool


def due_clause(now: datetime, *, grace: timedelta = timedelta(0)) -> ColumnElement[bool]:
    """Rows due ``grace`` ago, and rows whose claim expired."""
    return or_(
        and_(OutboxEntry.state == OutboxState.QUEUED, OutboxEntry.next_attempt_at <= now - grace),
        and_(OutboxEntry.state == OutboxState.SENDING, OutboxEntry.locked_until < now),
    )


@job("whatsapp.deliver_message", queue=Queue.REALTIME, attempts=3, backoff_seconds=0.5)
async def deliver_message(runtime: Runtime, session: AsyncSession, outbox_id: str) -> None:
    claim = await _claim(runtime, outbox_id)
    if claim is None:
        return  # not due, already sent, or another worker has it
    if claim.simulated:
        await _record_sent(session, runtime, claim, f"wamid.simulated.{uuid.uuid4().hex}")
        return
    if (refusal := send_refusal(claim.account_status)) is not None:
        await _record_failure(session, runtime, claim, GraphError(refusal.message, retryable=False))
        return
    try:
        defer = await governor.wait_turn(runtime, claim.phone_number_id, claim.recipient)
    except asyncio.CancelledError:
        await _release(runtime, claim.outbox_id)
        raise
    if defer > 0:
        await _put_off(session, claim, defer)
        return
    try:
        async with GraphClient(runtime.settings.meta, claim.access_token) as graph:
            payload = await _with_uploaded_media(runtime, graph, claim)
            wamid = await graph.send_message(claim.phone_number_id, {"to": claim.recipient, **payload})
    except GraphError as exc:
        await _record_failure(session, runtime, claim, exc)
    else:
        await _record_sent(session, runtime, claim, wamid)


async def _claim(runtime: Runtime, outbox_id: str) -> Claim | None:
    async with runtime.unit_of_work() as session:
        now = utcnow()
        claimed = await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == outbox_id, due_clause(now))
            .values(state=OutboxState.SENDING, locked_until=now + CLAIM_LEASE, updated_at=now)
            .returning(OutboxEntry.id)
            .execution_options(synchronize_session=False)
        )
        if claimed.first() is None:
            return None
        entry, account, simulated = (
            await session.execute(
                select(OutboxEntry, WhatsAppAccount, Message.simulated)
                .join(WhatsAppAccount, WhatsAppAccount.id == OutboxEntry.whatsapp_account_id)
                .join(Message, Message.id == OutboxEntry.message_id)
                .where(OutboxEntry.id == outbox_id)
            )
        ).one()
        token = account.access_token_encrypted
        return Claim(
            outbox_id=entry.id,
            message_id=entry.message_id,
            organization_id=entry.organization_id,
            phone_number_id=account.phone_number_id,
            access_token=runtime.secrets.decrypt(token) if token else None,
            account_status=account.status,
            recipient=entry.recipient,
            payload=entry.payload,
            media_storage_key=entry.media_storage_key,
            simulated=simulated,
        )


async def _release(runtime: Runtime, outbox_id: str) -> None:
    """Give a claim back at once when the process stops while the send waits for its turn (nothing
    reached Meta yet), so another process sends it without waiting out the lease."""
    async with runtime.unit_of_work() as session:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == outbox_id, OutboxEntry.state == OutboxState.SENDING)
            .values(state=OutboxState.QUEUED, locked_until=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def _with_uploaded_media(runtime: Runtime, graph: GraphClient, claim: Claim) -> dict[str, Any]:
    """The payload, with the file uploaded first when it has no Graph media id yet. The id is kept
    at once, so a retried send does not upload again."""
    kind = str(claim.payload.get("type"))
    content = claim.payload.get(kind)
    if not claim.media_storage_key or not isinstance(content, dict) or content.get("id"):
        return claim.payload
    try:
        data, mime_type = await runtime.storage.read(claim.media_storage_key)
    except KeyError as exc:
        raise GraphError("The file to send is no longer stored", retryable=False) from exc
    filename = claim.media_storage_key.rsplit("/", 1)[-1]
    media_id = await graph.upload_media(claim.phone_number_id, data, mime_type, filename)
    payload = {**claim.payload, kind: {**content, "id": media_id}}
    async with runtime.unit_of_work() as session:
        entry = await session.get_one(OutboxEntry, claim.outbox_id)
        entry.payload = payload
        message = await locked_message(session, claim.message_id)
        if message is not None and message.media:
            message.media = {**message.media, "providerMediaId": media_id}
    return payload


async def _record_sent(session: AsyncSession, runtime: Runtime, claim: Claim, wamid: str) -> None:
    now = utcnow()
    entry = await _locked_entry(session, claim.outbox_id)
    message = await locked_message(session, claim.message_id)
    if entry is None or message is None:
        return
    entry.state, entry.sent_at, entry.locked_until = OutboxState.SENT, now, None
    entry.attempts += 1
    entry.last_error, entry.permanent = None, False
    message.wa_message_id = wamid
    message.error = None
    if RANK[message.status] < RANK[MessageStatus.SENT]:
        message.status, message.status_at = MessageStatus.SENT, now
    if not await apply_pending_statuses(session, runtime, message):
        await publish_message_updated(session, runtime, message)
    log.info("whatsapp_message_sent", message_id=message.id, attempts=entry.attempts)


async def _record_failure(session: AsyncSession, runtime: Runtime, claim: Claim, error: GraphError) -> None:
    entry = await _locked_entry(session, claim.outbox_id)
    if entry is None:
        return
    entry.attempts += 1
    entry.last_error = error.as_dict()
    entry.locked_until = None
    if error.is_auth_error:
        await _token_invalid(session, entry.whatsapp_account_id)
    throttled = error.code in THROTTLE_CODES or error.code == PAIR_RATE_LIMIT_CODE
    if error.retryable and entry.attempts < (MAX_THROTTLED_ATTEMPTS if throttled else MAX_SEND_ATTEMPTS):
        delay = retry_delay(runtime, entry.attempts)
        if error.code == PAIR_RATE_LIMIT_CODE:
            delay = max(delay, PAIR_BACKOFF_SECONDS)
            await governor.hold_recipient(runtime, claim.phone_number_id, claim.recipient, delay)
        elif error.code in THROTTLE_CODES:
            await governor.hold_number(runtime, claim.phone_number_id, delay)
        entry.state, entry.next_attempt_at = OutboxState.QUEUED, utcnow() + timedelta(seconds=delay)
        enqueue_later(session, deliver_message, delay, outbox_id=entry.id)
        log.info("whatsapp_send_retry", message_id=entry.message_id, attempt=entry.attempts, code=error.code)
        return
    entry.state, entry.permanent = OutboxState.FAILED, not error.retryable
    message = await locked_message(session, claim.message_id)
    if message is not None:
        message.status, message.status_at = MessageStatus.FAILED, utcnow()
        message.error = {"code": error.code, "subcode": error.subcode, "message": error.message}
        await publish_message_updated(session, runtime, message)
    log.info("whatsapp_send_failed", message_id=entry.message_id, code=error.code, attempts=entry.attempts)


def retry_delay(runtime: Runtime, attempts: int) -> float:
    """Exponential backoff with jitter: base, 2×base, 4×base … (each ×0.5–1.5), capped."""
    base = runtime.settings.whatsapp_send_retry_base_seconds
    return min(MAX_RETRY_DELAY_SECONDS, base * 2 ** (attempts - 1)) * (0.5 + random.random())


async def _put_off(session: AsyncSession, claim: Claim, seconds: float) -> None:
    """Back on the schedule without counting an attempt (the number or the recipient is busy)."""
    entry = await _locked_entry(session, claim.outbox_id)
    if entry is None:
        return
    entry.state, entry.locked_until = OutboxState.QUEUED, None
    entry.next_attempt_at = utcnow() + timedelta(seconds=seconds)
    enqueue_later(session, deliver_message, seconds, outbox_id=entry.id)


async def _token_invalid(session: AsyncSession, account_id: str) -> None:
    """Meta refused the token (190): the account needs a new one before anything else is sent."""
    await session.execute(
        update(WhatsAppAccount)
        .where(WhatsAppAccount.id == account_id, WhatsAppAccount.status == AccountStatus.CONNECTED)
        .values(status=AccountStatus.TOKEN_INVALID, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def _locked_entry(session: AsyncSession, outbox_id: str) -> OutboxEntry | None:
    stmt = (
        select(OutboxEntry)
        .where(OutboxEntry.id == outbox_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


@periodic(every_seconds=5)
@job("whatsapp.sweep_outbox", attempts=1)
async def sweep_outbox(runtime: Runtime, session: AsyncSession) -> None:
    """Kick the rows left behind: due for a while (a lost job, a crash between commit and send, a
    lost retry timer) or claimed by a worker that never reported back."""
    left_behind = await session.scalars(
        select(OutboxEntry.id)
        .where(due_clause(utcnow(), grace=SWEEP_GRACE))
        .order_by(OutboxEntry.next_attempt_at)
        .limit(SWEEP_BATCH)
    )
    ids = list(left_behind)
    for outbox_id in ids:
        enqueue(session, deliver_message, outbox_id=outbox_id)
    if ids:
        log.info("whatsapp_outbox_swept", count=len(ids))
