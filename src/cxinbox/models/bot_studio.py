"""The bot studio: the numbered history of a config's system prompt, provider presets, config
snapshots, the platform's bot templates, and what members thought of the bot's messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import Base, IdMixin, TenantModel, TimestampMixin


class BotPromptVersion(TenantModel):
    """One value a config's ``systemPrompt`` took, numbered from 1 per config; the highest number is
    the current text."""

    __tablename__ = "bot_prompt_versions"
    __table_args__ = (UniqueConstraint("bot_config_id", "number"),)

    bot_config_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_configs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    system_prompt: Mapped[str] = mapped_column(Text)
    #: what wrote it: EDIT, IMPORT, RESTORE or ROLLBACK
    source: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))


class BotPreset(TenantModel):
    """A provider setting an admin can apply to a config; the key is encrypted like a config's."""

    __tablename__ = "bot_presets"

    name: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(128))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(String(500))
    temperature: Mapped[float | None] = mapped_column(Float)
    max_tokens: Mapped[int | None] = mapped_column(Integer)


class BotSnapshot(TenantModel):
    """A config at the bundle's ``config`` tier, to restore in place later."""

    __tablename__ = "bot_snapshots"
    __table_args__ = (Index("ix_bot_snapshots_config_created", "bot_config_id", "created_at"),)

    bot_config_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_configs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    #: taken by a restore, not asked for
    automatic: Mapped[bool] = mapped_column(default=False)
    bundle: Mapped[dict[str, Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))


class BotTemplate(IdMixin, TimestampMixin, Base):
    """A bot the platform offers every organization (a ``config`` tier bundle); not a tenant's row."""

    __tablename__ = "bot_templates"

    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_published: Mapped[bool] = mapped_column(default=False)
    bundle: Mapped[dict[str, Any]] = mapped_column(JSON)


class BotFeedback(TenantModel):
    """One member's rating of one bot message: 0 not helpful, 1 helpful."""

    __tablename__ = "bot_feedback"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id"),
        Index("ix_bot_feedback_org_created", "organization_id", "created_at", "id"),
    )
    organization_id_indexed = False  # ix_bot_feedback_org_created leads with it

    message_id: Mapped[str] = mapped_column(String(36), ForeignKey("messages.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
