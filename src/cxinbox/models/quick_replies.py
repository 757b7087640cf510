"""Canned answers agents insert by shortcut (``/greeting``), with an optional attachment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class QuickReply(TenantModel):
    __tablename__ = "quick_replies"
    __table_args__ = (UniqueConstraint("organization_id", "shortcut"),)

    title: Mapped[str] = mapped_column(String(100))
    #: ``/`` and lower-case letters, digits, ``-`` and ``_``: unique within the organization
    shortcut: Mapped[str] = mapped_column(String(50))
    #: the text, with ``{{contact.name}}``-style variables filled when it is used
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: ``{storageKey, mimeType, filename, size, kind}`` of the attachment
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))
