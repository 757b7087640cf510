"""WhatsApp message templates (one row per name and language of one business account) and the
header files uploaded for them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class TemplateStatus(enum.StrEnum):
    """DRAFT is ours; every other status is Meta's (its answers, its webhooks, a sync). REMOVED is
    ours too: deleted here, or gone from Meta. A status Meta adds later is kept raw in
    ``meta_status`` and shown as UNKNOWN until it is named here."""

    DRAFT = "DRAFT"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    ARCHIVED = "ARCHIVED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    FLAGGED = "FLAGGED"
    LOCKED = "LOCKED"
    REMOVED = "REMOVED"
    UNKNOWN = "UNKNOWN"


class TemplateCategory(enum.StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class QualityScore(enum.StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


class MessageTemplate(TenantModel):
    __tablename__ = "message_templates"
    __table_args__ = (
        # one live template per name and language of a business account (REMOVED ones are history)
        Index(
            "uq_message_templates_live_name",
            "whatsapp_account_id",
            "name",
            "language",
            unique=True,
            sqlite_where=text("status != 'REMOVED'"),
            postgresql_where=text("status != 'REMOVED'"),
        ),
        UniqueConstraint("organization_id", "meta_template_id"),
    )

    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(32))
    category: Mapped[TemplateCategory]
    #: Meta's component format: ``[{type: HEADER|BODY|FOOTER|BUTTONS, …}]``
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[TemplateStatus] = mapped_column(default=TemplateStatus.DRAFT)
    #: the status exactly as Meta last gave it (``IN_APPEAL``, a status not known here, …)
    meta_status: Mapped[str | None] = mapped_column(String(64))
    quality_score: Mapped[QualityScore] = mapped_column(default=QualityScore.UNKNOWN)
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    meta_template_id: Mapped[str | None] = mapped_column(String(64))
    last_synced_at: Mapped[datetime | None]
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))


class TemplateMedia(TenantModel):
    """A header file: sent to Meta through the Resumable Upload API (``handle``) and kept here, served
    by ``GET /templates/{id}/header-media`` under ``public_id``, a random token nobody can guess."""

    __tablename__ = "template_media"

    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    storage_key: Mapped[str] = mapped_column(String(512))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))
