"""The mail outbox: every transactional email (sign-in codes, invitation links) waits here until
the mail server has taken it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.core.clock import utcnow
from cxinbox.models.base import Base, IdMixin, TimestampMixin


class MailState(enum.StrEnum):
    #: waiting for its (next) attempt at ``next_attempt_at``
    QUEUED = "QUEUED"
    #: claimed by a worker until ``locked_until``; a row still here after that was left behind
    SENDING = "SENDING"
    SENT = "SENT"
    #: every attempt failed (``last_error`` says why)
    FAILED = "FAILED"


class OutgoingMail(IdMixin, TimestampMixin, Base):
    """One email on its way to the mail server.

    Written in the transaction that decided to send it, so a lost job, a crash or a mail server
    that is down loses nothing: the sweeper retries rows that are due or whose claim expired, with
    a durable backoff. The body carries secrets (a sign-in code, an invitation link whose token is
    stored only hashed elsewhere): it is encrypted, and erased once the mail is sent or given up.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_state_next_attempt", "state", "next_attempt_at"),)

    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    state: Mapped[MailState] = mapped_column(default=MailState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
