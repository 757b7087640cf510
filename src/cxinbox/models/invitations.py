"""Invitations to join an organization: a single-use emailed link, stored hashed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ColumnElement, ForeignKey, String, and_
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel
from cxinbox.models.identity import Role


class InvitationStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class Invitation(TenantModel):
    """Either an invitation for someone without an account yet (``user_id`` empty: accepting it
    creates the user) or the welcome link of a user an admin created (accepting it sets their name
    and password)."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role]
    team_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    invited_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    send_count: Mapped[int] = mapped_column(default=1)
    #: the email of the latest link: whether it actually went out is its state
    mail_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("mail_outbox.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @classmethod
    def pending_at(cls, now: datetime) -> ColumnElement[bool]:
        """SQL condition matching what ``status_at(now)`` calls PENDING."""
        return and_(cls.accepted_at.is_(None), cls.revoked_at.is_(None), cls.expires_at > now)

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
