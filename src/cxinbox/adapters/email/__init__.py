"""Outgoing mail: SMTP (aiosmtplib) when ``CXINBOX_SMTP_URL`` is set, otherwise written to the log."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiosmtplib
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class LogMailer:
    """Without SMTP the mail goes to the log: its text too (sign-in codes, invitation links) where
    ``log_text`` allows it, which is never in production (there only who and what is logged)."""

    def __init__(self, *, log_text: bool) -> None:
        self._log_text = log_text

    async def send(self, mail: Mail) -> None:
        if self._log_text:
            log.info("mail_not_sent_no_smtp", to=mail.to, subject=mail.subject, text=mail.text)
        else:
            log.warning("mail_not_sent_mail_disabled", to=mail.to, subject=mail.subject)


class SmtpMailer:
    def __init__(self, smtp_url: str, sender: str) -> None:
        url = urlparse(smtp_url)
        if url.scheme not in ("smtp", "smtps"):
            raise ValueError("CXINBOX_SMTP_URL must start with smtp:// or smtps://")
        self._host = url.hostname or "localhost"
        self._port = url.port or (465 if url.scheme == "smtps" else 25)
        self._tls = url.scheme == "smtps"
        self._username = unquote(url.username) if url.username else None
        self._password = unquote(url.password) if url.password else None
        self._sender = sender

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            use_tls=self._tls,
            start_tls=None if not self._tls else False,
            username=self._username,
            password=self._password,
            timeout=30,
        )


def create_mailer(smtp_url: str | None, sender: str, *, log_text: bool) -> Mailer:
    return SmtpMailer(smtp_url, sender) if smtp_url else LogMailer(log_text=log_text)
