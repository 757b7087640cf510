"""What the bot can show beside its words: media files it sends (with the metadata that tells it when),
their Graph media ids per WhatsApp number, and the data sources shown beside a conversation."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class BotMediaKind(enum.StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    DOCUMENT = "DOCUMENT"


class BotMedia(TenantModel):
    """A file the bot can send (shared by every bot config of the organization)."""

    __tablename__ = "bot_media"

    name: Mapped[str] = mapped_column(String(100))
    #: tells the bot when to send it
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[BotMediaKind]
    #: what the content was recognised as
    mime_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500))
    #: a JPEG preview (images always; videos when ffmpeg made one)
    thumbnail_key: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL")
    )


class BotMediaUpload(TenantModel):
    """The Graph media id a file got when uploaded for one WhatsApp number (valid 30 days)."""

    __tablename__ = "bot_media_uploads"
    __table_args__ = (UniqueConstraint("media_id", "whatsapp_account_id"),)

    media_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_media.id", ondelete="CASCADE"))
    whatsapp_account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), index=True
    )
    graph_media_id: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[datetime]


class InboxDataSource(TenantModel):
    """A lookup on one of the organization's connections, its answer shown as labelled fields beside a
    conversation. It goes with its connection (deleting the connection deletes it)."""

    __tablename__ = "inbox_data_sources"

    name: Mapped[str] = mapped_column(String(100))
    connection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(8), default="GET")
    #: after the connection's base URL, with ``{{phone}}``-style placeholders
    path: Mapped[str] = mapped_column(String(2048), default="")
    query: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[Any | None] = mapped_column(JSON)
    #: ``[{label, path}]``: dot paths with indices into the answer
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    cache_ttl_seconds: Mapped[int] = mapped_column(Integer, default=300)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: where it is shown among the others (lowest first)
    position: Mapped[int] = mapped_column(Integer, default=0)
