"""Invitation mail goes through the durable mail outbox: a mail server that is down loses nothing,
the invitation says the mail has not gone out, and the sweeper delivers it once the server is back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cxinbox.app import create_app
from cxinbox.core.clock import utcnow
from cxinbox.mail.tasks import MAX_MAIL_ATTEMPTS, sweep_mail
from cxinbox.models.invitations import Invitation
from cxinbox.models.mail import MailState, OutgoingMail
from cxinbox.runtime import Runtime
from tests.fakes.smtp import SmtpServer
from tests.fixtures.api import running
from tests.fixtures.factories import unique_email, update_rows
from tests.fixtures.people import invite_token
from tests.fixtures.runtimes import started_runtime
from tests.fixtures.wait import eventually


async def _mail_of(runtime: Runtime, invitation_id: str) -> OutgoingMail:
    async with runtime.sessionmaker() as session:
        mail = await session.scalar(
            select(OutgoingMail)
            .join(Invitation, Invitation.mail_id == OutgoingMail.id)
            .where(Invitation.id == invitation_id)
        )
    assert mail is not None
    return mail


async def _listed(client, org, invitation_id: str) -> dict[str, Any]:
    r = await client.get("/invitations", headers=org.admin.headers)
    [listed] = [i for i in r.json()["data"] if i["id"] == invitation_id]
    return listed


async def _sweep_now(runtime: Runtime, mail_id: str) -> None:
    """The sweeper's next round, with the mail's retry due."""
    await update_rows(
        runtime, OutgoingMail, OutgoingMail.id == mail_id, next_attempt_at=utcnow() - timedelta(hours=1)
    )
    await runtime.jobs.kick(sweep_mail.job_name)


async def test_an_invitation_mail_survives_a_mail_server_that_is_down(settings, factory):
    mail_server = SmtpServer()  # its address is chosen; nothing listens there yet
    org = await factory.org()
    email = unique_email("invitee")
    try:
        async with (
            started_runtime(settings.model_copy(update={"smtp_url": mail_server.url}), redis_url=None) as rt,
            running(create_app(rt.settings, runtime=rt)) as client,
        ):
            r = await client.post("/invitations", json={"email": email}, headers=org.admin.headers)
            assert r.status_code == 201, r.text
            invitation_id = r.json()["data"]["id"]
            await rt.jobs.wait_idle()

            failed = await _mail_of(rt, invitation_id)
            assert (failed.state, failed.attempts, failed.sent_at) == (MailState.QUEUED, 1, None)
            assert failed.last_error and failed.next_attempt_at > utcnow()
            assert failed.body_encrypted and "/invite/" not in failed.body_encrypted  # the link is a secret
            assert (await _listed(client, org, invitation_id))["mailStatus"] == "QUEUED"

            mail_server.start()
            await _sweep_now(rt, failed.id)
            token = await invite_token(mail_server, email)
            assert token

            async def recorded_sent() -> bool:
                return (await _mail_of(rt, invitation_id)).state == MailState.SENT

            await eventually(recorded_sent, "the mail is recorded as sent")
            sent = await _mail_of(rt, invitation_id)
            assert sent.sent_at is not None and sent.attempts == 2 and sent.body_encrypted is None
            assert (await _listed(client, org, invitation_id))["mailStatus"] == "SENT"
            assert len(mail_server.messages_to(email)) == 1
    finally:
        mail_server.stop()


async def test_a_mail_that_never_goes_out_ends_failed_and_says_so(settings, factory):
    mail_server = SmtpServer()  # never started
    org = await factory.org()
    async with (
        started_runtime(settings.model_copy(update={"smtp_url": mail_server.url}), redis_url=None) as rt,
        running(create_app(rt.settings, runtime=rt)) as client,
    ):
        r = await client.post("/invitations", json={"email": unique_email()}, headers=org.admin.headers)
        invitation_id = r.json()["data"]["id"]
        await rt.jobs.wait_idle()
        mail = await _mail_of(rt, invitation_id)
        await update_rows(rt, OutgoingMail, OutgoingMail.id == mail.id, attempts=MAX_MAIL_ATTEMPTS - 1)
        await _sweep_now(rt, mail.id)

        async def failed() -> bool:
            return (await _mail_of(rt, invitation_id)).state == MailState.FAILED

        await eventually(failed, "the mail is given up")
        assert (await _mail_of(rt, invitation_id)).body_encrypted is None
        assert (await _listed(client, org, invitation_id))["mailStatus"] == "FAILED"
