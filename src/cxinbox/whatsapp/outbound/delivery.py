"""The delivery job: pace a due outbox row, claim it, call the Graph API, record what happened.

Exactly once, as far as it can be known. The send waits for its number's turn (the governor) first;
then one atomic UPDATE claims the row (QUEUED and due -> SENDING with a lease) and commits: that
claim is the attempt's record, written before the Graph call, which runs outside any transaction
and carries the row's callback key in ``biz_opaque_callback_data``. What follows:

- Meta answered with the wamid: recorded, SENT.
- Meta answered with an error (it did not send): a retryable one puts the row back on a durable
  schedule (exponential backoff with jitter), any other, or the last attempt, fails the message.
- No answer although the request may have reached Meta (a read timeout, a broken connection), or the
  process died after the claim: the outcome is unknown. The row stays SENDING and is never claimed
  again. A status webhook carrying its callback key gives it its wamid (``inbound.unrecorded_sends``);
  one still unknown ``whatsapp_send_outcome_window_seconds`` after its lease ran out becomes UNKNOWN:
  the message FAILED with ``OUTCOME_UNKNOWN``, counted and shown, resent only if a person retries it.

Duplicates are the hard rule: a message may end reported as of unknown outcome, never sent twice by
us. The sweeper kicks due rows whose job was lost and settles the unknown ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Table, and_, bindparam, case, literal, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.conversations.events import audience_of
from cxinbox.core.clock import utcnow
from cxinbox.core.db import locked_in_order, release_transaction
from cxinbox.core.jobs import Queue, enqueue, enqueue_later, job
from cxinbox.core.scheduler import periodic
from cxinbox.messages.events import (
    publish_message_updated,
    publish_messages_updated,
    publish_messages_updated_to,
)
from cxinbox.models.inbox import Conversation, Message, MessageStatus, MessageStatusEvent
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.statuses import RANK, apply_pending_statuses
from cxinbox.whatsapp.inbound.unrecorded_sends import callback_key
from cxinbox.whatsapp.outbound import conversation_order, governor
from cxinbox.whatsapp.outbound.id_sets import POSTGRESQL, PerDialect, among, pair_params, pairs
from cxinbox.whatsapp.outbound.refusal import send_refusal
from cxinbox.whatsapp.repository import locked_message

log = structlog.get_logger(__name__)

#: a claimed row whose worker has not reported back after this long has an unknown outcome (longer
#: than a Graph call may take, media upload included)
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
#: the error of a message whose send's outcome stayed unknown
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


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

    @property
    def calls_graph(self) -> bool:
        return not self.simulated and send_refusal(self.account_status) is None


#: the answer to one claimed send: Meta's wamid, or its error
Outcome = tuple[Claim, str | GraphError]


def due_clause(now: datetime, *, grace: timedelta = timedelta(0)) -> Any:
    """Rows waiting for an attempt that is due (``grace`` ago). A claimed row is never due again."""
    return and_(OutboxEntry.state == OutboxState.QUEUED, OutboxEntry.next_attempt_at <= now - grace)


#: the other due messages of its number a delivery takes along at most (a slice's worth four times)
MAX_TAKEN_ALONG = 199
#: outbox rows a batch of this process is sending: their own delivery jobs have nothing to do (a row
#: the batch leaves gets a delivery job of its own, and the sweeper finds any other)
_IN_HAND: set[str] = set()


@job("whatsapp.deliver_message", queue=Queue.REALTIME, attempts=3, backoff_seconds=0.5)
async def deliver_message(runtime: Runtime, session: AsyncSession, outbox_id: str) -> None:
    """One send: its row read with the conversation's order check (one statement, a read session),
    the governor's slot, the claim committed in this job's session, the Graph call outside any
    transaction, its outcome recorded in the job's own transaction.

    The same read finds the other conversation messages (not templates: a campaign's rows have their
    batch) due on the number, each with its own order check: when there are some (a burst of bot
    replies), they go together through the batch path (``batch_delivery``: a claim and a record per
    slice, not three transactions each), and their own jobs, finding them in hand or no longer due,
    end at once. A message that must wait for an earlier one of its conversation is not taken."""
    if outbox_id in _IN_HAND:
        return
    due = await _read_due(runtime, _DUE_ALONG, {"id": outbox_id})
    if not due or due[0][0].outbox_id != outbox_id:
        return  # not due, already sent, or another worker has it
    claim, waits = due[0]
    if waits:
        await _put_off(session, claim, conversation_order.RECHECK_SECONDS)
        return
    if along := [other for other, other_waits in due[1:] if not other_waits]:
        await _send_together(runtime, session, [claim, *along])
        return
    if claim.calls_graph:
        defer = await governor.wait_turn(runtime, claim.phone_number_id, claim.recipient)
        if defer > 0:
            await _put_off(session, claim, defer)
            return
    claimed = await claim_rows(session, [outbox_id])
    await release_transaction(session)  # the claim is committed before the call
    if not claimed:
        return
    async with GraphClient(runtime.settings.meta, claim.access_token) as graph:
        outcome = await send_claimed(runtime, graph, claim)
    await record_outcomes(session, runtime, [outcome])


async def _send_together(runtime: Runtime, session: AsyncSession, claims: list[Claim]) -> None:
    # imported here: the batch path is built on this module
    from cxinbox.whatsapp.outbound.batch_delivery import send_number

    ids = {c.outbox_id for c in claims}
    _IN_HAND.update(ids)
    try:
        await send_number(runtime, session, claims)
    finally:
        _IN_HAND.difference_update(ids)


async def read_due(runtime: Runtime, outbox_ids: Sequence[str]) -> list[Claim]:
    """The rows of ``outbox_ids`` that are due, with what sending them takes (nothing is claimed)."""
    return [claim for claim, _ in await _read_due(runtime, _DUE, {"ids": list(outbox_ids)})]


def _due_statement(dialect: str, *, along: bool) -> Any:
    """The due rows of ``ids`` (unordered: a batch's); or, ``along``, the row ``id`` (first) and the
    other conversation messages due on its number, each with whether it waits for an earlier one
    of its conversation (``conversation_order``)."""
    waits = (conversation_order.earlier_waiting() if along else literal(False)).label("waits")
    stmt = (
        select(
            OutboxEntry.id,
            OutboxEntry.message_id,
            OutboxEntry.organization_id,
            OutboxEntry.recipient,
            OutboxEntry.payload,
            OutboxEntry.media_storage_key,
            WhatsAppAccount.phone_number_id,
            WhatsAppAccount.access_token_encrypted,
            WhatsAppAccount.status,
            Message.simulated,
            waits,
        )
        .join(WhatsAppAccount, WhatsAppAccount.id == OutboxEntry.whatsapp_account_id)
        .join(Message, Message.id == OutboxEntry.message_id)
        .where(
            OutboxEntry.state == OutboxState.QUEUED,
            OutboxEntry.next_attempt_at <= bindparam("now", type_=OutboxEntry.next_attempt_at.type),
        )
    )
    if not along:
        return stmt.where(among(OutboxEntry.id, "ids", dialect))
    own, mine = OutboxEntry.id == bindparam("id"), aliased(OutboxEntry)
    number = select(mine.whatsapp_account_id).where(mine.id == bindparam("id")).scalar_subquery()
    return (
        stmt.where(OutboxEntry.whatsapp_account_id == number, or_(own, OutboxEntry.template_name.is_(None)))
        .order_by(case((own, 0), else_=1), OutboxEntry.next_attempt_at)
        .limit(1 + MAX_TAKEN_ALONG)
    )


_DUE = PerDialect(lambda dialect: _due_statement(dialect, along=False))
_DUE_ALONG = PerDialect(lambda dialect: _due_statement(dialect, along=True))


async def _read_due(
    runtime: Runtime, statement: PerDialect[Any], params: dict[str, Any]
) -> list[tuple[Claim, bool]]:
    """The due rows ``statement`` reads (Core rows, one statement) and whether each waits for an
    earlier message of its conversation."""
    async with runtime.read_session(current=True) as session:
        stmt, _ = statement(session)
        now = utcnow()
        rows = await session.execute(stmt, {**conversation_order.params(now), **params})
        found = []
        tokens: dict[str, str] = {}  # each number's token decrypted once (a batch: one number)
        for (
            outbox_id,
            message_id,
            org_id,
            recipient,
            payload,
            key,
            number,
            token,
            status,
            simulated,
            waits,
        ) in rows:
            claim = Claim(
                outbox_id=outbox_id,
                message_id=message_id,
                organization_id=org_id,
                phone_number_id=number,
                access_token=_decrypted(runtime, tokens, token),
                account_status=status,
                recipient=recipient,
                payload=payload,
                media_storage_key=key,
                simulated=simulated,
            )
            found.append((claim, bool(waits)))
        return found


def _decrypted(runtime: Runtime, tokens: dict[str, str], token: str | None) -> str | None:
    if not token:
        return None
    if token not in tokens:
        tokens[token] = runtime.secrets.decrypt(token)
    return tokens[token]


#: the outbox table: the claim and the record of sends are Core UPDATEs (an ORM-enabled one costs
#: an autoflush and the ORM's bulk-update set-up at every execution, and changes no loaded object)
_OUTBOX = cast(Table, OutboxEntry.__table__)


def _claim_statement(dialect: str) -> Any:
    table = _OUTBOX.c
    now = bindparam("now", type_=table.updated_at.type)
    return (
        update(_OUTBOX)
        .where(
            among(table.id, "ids", dialect), table.state == OutboxState.QUEUED, table.next_attempt_at <= now
        )
        .values(state=OutboxState.SENDING, locked_until=bindparam("until", type_=now.type), updated_at=now)
        .returning(table.id)
    )


_CLAIM = PerDialect(_claim_statement)


async def claim_rows(session: AsyncSession, outbox_ids: Sequence[str]) -> set[str]:
    """Claim those of ``outbox_ids`` still due (one UPDATE, in ``session``'s transaction, which the
    caller commits before any Graph call). Answers the ids this process won."""
    stmt, _ = _CLAIM(session)
    now = utcnow()
    claimed = await session.scalars(stmt, {"ids": list(outbox_ids), "now": now, "until": now + CLAIM_LEASE})
    return set(claimed)


async def take(runtime: Runtime, outbox_ids: Sequence[str]) -> set[str]:
    """Claim those of ``outbox_ids`` still due, in one committed UPDATE: the record of the attempt,
    written before the Graph call. Answers the ids this process won."""
    async with runtime.unit_of_work() as session:
        return await claim_rows(session, outbox_ids)


async def send_claimed(runtime: Runtime, graph: GraphClient, claim: Claim) -> Outcome:
    """The Graph call of a claimed row (none for a simulated one or a number that may not send)."""
    if claim.simulated:
        return claim, f"wamid.simulated.{uuid.uuid4().hex}"
    if (refusal := send_refusal(claim.account_status)) is not None:
        return claim, GraphError(refusal.message, retryable=False)
    try:
        payload = await _with_uploaded_media(runtime, graph, claim)
        body = {"to": claim.recipient, **payload, "biz_opaque_callback_data": callback_key(claim.outbox_id)}
        return claim, await graph.send_message(claim.phone_number_id, body)
    except GraphError as exc:
        return claim, exc


async def record_outcomes(session: AsyncSession, runtime: Runtime, outcomes: Sequence[Outcome]) -> None:
    sent = [(claim, answer) for claim, answer in outcomes if isinstance(answer, str)]
    await _record_sent(session, runtime, sent)
    for claim, answer in outcomes:
        if isinstance(answer, GraphError):
            await _record_failure(session, runtime, claim, answer)


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


def _sent_statements(dialect: str) -> tuple[Any, Any]:
    """The two UPDATEs that record sends (outbox rows SENT; messages given their wamid), for any
    number of them: the ids and wamids are bound as lists, and each UPDATE locks its rows in id
    order (``locked_in_order``) so that two recording the same rows never deadlock."""
    now = bindparam("now", type_=OutboxEntry.sent_at.type)
    table = _OUTBOX.c
    outbox = (
        update(_OUTBOX)
        .where(table.id.in_(locked_in_order(table.id, among(table.id, "outbox_ids", dialect))))
        .values(
            state=OutboxState.SENT,
            sent_at=now,
            locked_until=None,
            attempts=table.attempts + 1,
            last_error=None,
            permanent=False,
        )
    )
    wamids = pairs(dialect)
    # a status that came first (DELIVERED, READ, FAILED) is not moved back
    earlier = Message.status.in_([s for s, rank in RANK.items() if rank < RANK[MessageStatus.SENT]])
    # SQLite names no table in RETURNING, so the correlated subqueries name the updated row's table
    conversation_id: Any = literal_column(f"{Message.__tablename__}.conversation_id")
    wa_message_id: Any = literal_column(f"{Message.__tablename__}.wa_message_id")
    early = (
        select(MessageStatusEvent.id)
        .where(MessageStatusEvent.wa_message_id == wa_message_id, MessageStatusEvent.applied_at.is_(None))
        .exists()
    )
    locked = (  # SQLite has a single writer: nothing to lock
        [Message.id.in_(locked_in_order(Message.id, among(Message.id, "keys", dialect)))]
        if dialect == POSTGRESQL
        else []
    )
    messages = (
        update(Message)
        .where(Message.id == wamids.c.key, *locked)
        .values(
            wa_message_id=wamids.c.value,
            error=None,
            status=case((earlier, literal(MessageStatus.SENT, Message.status.type)), else_=Message.status),
            status_at=case((earlier, now), else_=Message.status_at),
            updated_at=now,
        )
        .returning(
            Message,
            select(Conversation.assigned_to_id).where(Conversation.id == conversation_id).scalar_subquery(),
            select(Conversation.team_id).where(Conversation.id == conversation_id).scalar_subquery(),
            early,
        )
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return outbox, messages


_SENT = PerDialect(_sent_statements)


async def _record_sent(session: AsyncSession, runtime: Runtime, sent: Sequence[tuple[Claim, str]]) -> None:
    """Each claim's wamid, in one UPDATE of the outbox rows and one of the messages whatever their
    number (a campaign records slices of fifty), which answers each message with its
    conversation's audience and whether a status came before the answer (no other read)."""
    if not sent:
        return
    (outbox, update_messages), dialect = _SENT(session)
    now = utcnow()
    await session.execute(outbox, {"outbox_ids": [claim.outbox_id for claim, _ in sent], "now": now})
    params = pair_params(dialect, [claim.message_id for claim, _ in sent], [wamid for _, wamid in sent])
    rows = await session.execute(update_messages, {**params, "now": now})
    plain, early = [], []
    for message, assigned_to_id, team_id, had_status in rows:
        if had_status:
            early.append(message)
        else:
            plain.append((message, audience_of(message.conversation_id, assigned_to_id, team_id)))
    await publish_messages_updated_to(session, runtime, plain)
    # the few whose statuses came before the answer fold them in (and publish their own update)
    for message in early:
        if not await apply_pending_statuses(session, runtime, message):
            await publish_message_updated(session, runtime, message)
    log.info("whatsapp_messages_sent", count=len(plain) + len(early))


async def _record_failure(session: AsyncSession, runtime: Runtime, claim: Claim, error: GraphError) -> None:
    entry = await _locked_entry(session, claim.outbox_id)
    if entry is None or entry.state is not OutboxState.SENDING:
        return
    entry.attempts += 1
    entry.last_error = error.as_dict()
    if error.unanswered:
        # Meta may have sent it: the row stays SENDING, never claimed again, until a status webhook
        # or the reconciliation window settles it
        entry.locked_until = utcnow()
        log.warning("whatsapp_send_outcome_unknown", message_id=entry.message_id, error=error.message)
        return
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
    """Due later, without counting an attempt (the number or the recipient is busy; unclaimed)."""
    entry = await _locked_entry(session, claim.outbox_id)
    if entry is None or entry.state is not OutboxState.QUEUED:
        return
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
    """Kick the rows left behind (due for a while: a lost job, a crash between commit and claim, a
    lost retry timer) and settle the sends whose outcome stayed unknown."""
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
    await _settle_unknown_outcomes(session, runtime)


async def _settle_unknown_outcomes(session: AsyncSession, runtime: Runtime) -> None:
    """Claims whose worker never reported back, with no status webhook within the window after
    their lease: UNKNOWN, their message FAILED with ``OUTCOME_UNKNOWN``. Not sent again."""
    window = timedelta(seconds=runtime.settings.whatsapp_send_outcome_window_seconds)
    now = utcnow()
    rows = await session.execute(
        select(OutboxEntry, Message)
        .join(Message, Message.id == OutboxEntry.message_id)
        .where(OutboxEntry.state == OutboxState.SENDING, OutboxEntry.locked_until < now - window)
        .order_by(OutboxEntry.id)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    settled = []
    for entry, message in rows:
        entry.state, entry.locked_until, entry.permanent = OutboxState.UNKNOWN, None, True
        message.status, message.status_at = MessageStatus.FAILED, now
        message.error = {
            "code": OUTCOME_UNKNOWN,
            "message": "The send may or may not have reached the customer (no answer from Meta was "
            "recorded); it is not sent again automatically",
        }
        settled.append(message)
    if settled:
        await publish_messages_updated(session, runtime, settled)
        log.warning("whatsapp_send_outcomes_unknown", count=len(settled))
