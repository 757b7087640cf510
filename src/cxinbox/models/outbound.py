"""What outbound delivery keeps: the outbox of messages waiting to reach the Graph API, and the
idempotency keys that make a retried send request a no-op."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.core.clock import utcnow
from cxinbox.models.base import TenantModel


class OutboxState(enum.StrEnum):
    #: waiting for its (next) attempt at ``next_attempt_at``
    QUEUED = "QUEUED"
    #: claimed right before its Graph call, by a worker that reports back before ``locked_until``; a
    #: row still here after that has an unknown outcome (the call may have reached Meta): it is never
    #: claimed again, only reconciled by a status webhook carrying its callback key
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    #: no answer and no status webhook within the reconciliation window: reported, never resent
    #: automatically (a status webhook that still comes makes it SENT)
    UNKNOWN = "UNKNOWN"
    #: an admin gave up on it: it leaves the failed-messages queue
    DISCARDED = "DISCARDED"


class OutboxEntry(TenantModel):
    """One outbound message on its way to the Graph API.

    Written in the same transaction as its message, so a crash between commit and the claim loses
    nothing: the sweeper finds rows that are due. The claim, committed right before the Graph call,
    is the attempt's record: a crash after it never leads to a second send (see
    ``whatsapp.outbound.delivery``). Retries are a durable schedule (``attempts``,
    ``next_attempt_at``), not in-memory sleeps.
    """

    __tablename__ = "message_outbox"
    __table_args__ = (
        Index("ix_message_outbox_state_next_attempt", "state", "next_attempt_at"),
        # a number's rows by time: its messaging tier's use (``campaigns.tiers``)
        Index("ix_message_outbox_account_created", "whatsapp_account_id", "created_at"),
    )

    message_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE")
    )
    recipient: Mapped[str] = mapped_column(String(128))
    #: the type-specific part of the Graph request (``type``, ``<type>: {…}``, ``context``)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: a file to upload to the Graph API (``POST /{phone_number_id}/media``) before sending
    media_storage_key: Mapped[str | None] = mapped_column(String(512))
    template_name: Mapped[str | None] = mapped_column(String(512), index=True)
    state: Mapped[OutboxState] = mapped_column(default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    #: the last Graph error ``{code, subcode, message}``
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the last error will not pass on a retry (an admin must change something first)
    permanent: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]


class IdempotencyKey(TenantModel):
    """A client's ``Idempotency-Key`` and the answer its first request got, kept 24 hours.

    Unique per organization and key: of two concurrent requests with one key, the second waits for
    the first's transaction and then replays its answer.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    key: Mapped[str] = mapped_column(String(255))
    #: what the request asked (method, path, body digest); the same key for another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: empty only inside the first request's own transaction (the key is reserved before the work)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)
