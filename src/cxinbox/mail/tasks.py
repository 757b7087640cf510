from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mail
from cxinbox.core.jobs import enqueue, job
from cxinbox.runtime import Runtime


@job("mail.send", attempts=5, backoff_seconds=2.0)
async def send_mail(runtime: Runtime, _session: AsyncSession, to: str, subject: str, text: str) -> None:
    await runtime.mailer.send(Mail(to=to, subject=subject, text=text))


def queue_mail(session: AsyncSession, mail: Mail) -> None:
    """Send ``mail`` once the current transaction commits."""
    enqueue(session, send_mail, to=mail.to, subject=mail.subject, text=mail.text)
