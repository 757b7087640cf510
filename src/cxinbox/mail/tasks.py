"""Transactional email through a durable outbox, as outbound messages go.

``queue_mail`` writes the mail (body encrypted) in the caller's transaction and asks for a send once
it commits. ``deliver_mail`` claims the row with one atomic UPDATE (so a mail goes out once however
many kicks arrive), hands it to the mail server outside any transaction and records what happened:
sent (the body is erased), or back on a durable schedule with exponential backoff, FAILED after the
last attempt. ``sweep_mail`` re-kicks the rows left behind (a lost job or timer, a crash, a mail
server that was down), so nothing is lost while the mail server or Redis is away.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mail
from cxinbox.core.clock import utcnow
from cxinbox.core.ids import new_id
from cxinbox.core.jobs import Queue, enqueue, enqueue_later, job
from cxinbox.core.scheduler import periodic
from cxinbox.models.mail import MailState, OutgoingMail
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

#: longer than one SMTP exchange may take (its timeout is 30 s); a claim older than this was lost
CLAIM_LEASE = timedelta(seconds=120)
MAX_MAIL_ATTEMPTS = 10
RETRY_BASE_SECONDS = 15.0
MAX_RETRY_DELAY_SECONDS = 3600.0
#: a due row is swept only after this grace, so the sweeper does not race the job queued at commit
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 200


async def queue_mail(session: AsyncSession, runtime: Runtime, mail: Mail) -> OutgoingMail:
    """Store ``mail`` in the current transaction (written at once, so rows may refer to it); it is
    sent once the transaction commits."""
    outgoing = OutgoingMail(
        id=new_id(),
        recipient=mail.to,
        subject=mail.subject,
        body_encrypted=runtime.secrets.encrypt(mail.text),
        state=MailState.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(outgoing)
    await session.flush()
    enqueue(session, deliver_mail, mail_id=outgoing.id)
    return outgoing


def _due(now: datetime, *, grace: timedelta = timedelta(0)) -> ColumnElement[bool]:
    """Rows due ``grace`` ago, and rows whose claim expired."""
    return or_(
        and_(OutgoingMail.state == MailState.QUEUED, OutgoingMail.next_attempt_at <= now - grace),
        and_(OutgoingMail.state == MailState.SENDING, OutgoingMail.locked_until < now),
    )


@job("mail.deliver", queue=Queue.REALTIME, attempts=1)
async def deliver_mail(runtime: Runtime, session: AsyncSession, mail_id: str) -> None:
    mail = await _claim(runtime, mail_id)
    if mail is None:
        return  # not due, already sent, or another worker has it
    try:
        await runtime.mailer.send(mail)
    except Exception as exc:  # the mail server refused or is unreachable: try again later
        await _record_failure(session, mail_id, exc)
    else:
        await _record_sent(session, mail_id)


async def _claim(runtime: Runtime, mail_id: str) -> Mail | None:
    async with runtime.unit_of_work() as session:
        now = utcnow()
        claimed = await session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, _due(now))
            .values(state=MailState.SENDING, locked_until=now + CLAIM_LEASE, updated_at=now)
            .returning(OutgoingMail.recipient, OutgoingMail.subject, OutgoingMail.body_encrypted)
            .execution_options(synchronize_session=False)
        )
        row = claimed.first()
    if row is None or row.body_encrypted is None:
        return None
    return Mail(to=row.recipient, subject=row.subject, text=runtime.secrets.decrypt(row.body_encrypted))


async def _record_sent(session: AsyncSession, mail_id: str) -> None:
    now = utcnow()
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(
            state=MailState.SENT,
            sent_at=now,
            attempts=OutgoingMail.attempts + 1,
            body_encrypted=None,
            locked_until=None,
            last_error=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def _record_failure(session: AsyncSession, mail_id: str, exc: Exception) -> None:
    mail = await session.get(OutgoingMail, mail_id, with_for_update=True, populate_existing=True)
    if mail is None:
        return
    mail.attempts += 1
    mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
    mail.locked_until = None
    if mail.attempts >= MAX_MAIL_ATTEMPTS:
        mail.state, mail.body_encrypted = MailState.FAILED, None
        log.error("mail_failed", mail_id=mail_id, attempts=mail.attempts, error=mail.last_error)
        return
    delay = retry_delay(mail.attempts)
    mail.state, mail.next_attempt_at = MailState.QUEUED, utcnow() + timedelta(seconds=delay)
    enqueue_later(session, deliver_mail, delay, mail_id=mail_id)
    log.warning(
        "mail_retry", mail_id=mail_id, attempt=mail.attempts, delay=round(delay), error=mail.last_error
    )


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base, 2×base, 4×base … (each ×0.5–1.5), capped."""
    return min(MAX_RETRY_DELAY_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1)) * (0.5 + random.random())


@periodic(every_seconds=30)
@job("mail.sweep", attempts=1)
async def sweep_mail(runtime: Runtime, session: AsyncSession) -> None:
    """Kick the mails left behind: due for a while, or claimed by a worker that never reported."""
    left_behind = list(
        await session.scalars(
            select(OutgoingMail.id)
            .where(_due(utcnow(), grace=SWEEP_GRACE))
            .order_by(OutgoingMail.next_attempt_at)
            .limit(SWEEP_BATCH)
        )
    )
    for mail_id in left_behind:
        enqueue(session, deliver_mail, mail_id=mail_id)
    if left_behind:
        log.info("mail_outbox_swept", count=len(left_behind))
