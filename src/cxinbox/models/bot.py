"""The bot: its configs (one active per organization), their intents, the tokens and replies it used
per month, and the writing assist's settings."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import Base, TenantModel


class BotMode(enum.StrEnum):
    LLM = "LLM"
    N8N = "N8N"


class IntentAction(enum.StrEnum):
    REPLY = "REPLY"
    MEDIA = "MEDIA"
    HANDOFF = "HANDOFF"
    TOOL = "TOOL"


class BotConfig(TenantModel):
    """A bot config; ``POST`` makes drafts and ``activate`` makes one the active one (at most one per
    organization, held by a partial unique index)."""

    __tablename__ = "bot_configs"
    __table_args__ = (
        Index(
            "uq_bot_configs_active",
            "organization_id",
            unique=True,
            postgresql_where=text("is_active"),
            sqlite_where=text("is_active"),
        ),
    )

    name: Mapped[str] = mapped_column(String(100))
    #: one of ``adapters.llm.registry.Provider``
    provider: Mapped[str] = mapped_column(String(16), default="OPENAI")
    model: Mapped[str] = mapped_column(String(128), default="gpt-4o-mini")
    #: the provider's key, encrypted with ``core.crypto.SecretBox``
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(String(500))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    temperature: Mapped[float] = mapped_column(Float, default=0.7)
    max_tokens: Mapped[int] = mapped_column(Integer, default=500)
    is_active: Mapped[bool] = mapped_column(default=False)
    mode: Mapped[BotMode] = mapped_column(default=BotMode.LLM)
    n8n_webhook_url: Mapped[str | None] = mapped_column(String(500))
    n8n_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    #: ``[{name, description}]``: what classification picks from
    categories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: the quiet window that turns a burst of customer messages into one turn (0: none)
    debounce_seconds: Mapped[int] = mapped_column(Integer, default=2)
    #: a turn whose customer text the injection screening flags hands off (else it runs without tools)
    handoff_on_injection: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))


class BotIntent(TenantModel):
    __tablename__ = "bot_intents"
    __table_args__ = (Index("ix_bot_intents_config_order", "bot_config_id", "order"),)

    bot_config_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_configs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    action: Mapped[IntentAction] = mapped_column(default=IntentAction.REPLY)
    response: Mapped[str | None] = mapped_column(Text)
    media_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    tool_id: Mapped[str | None] = mapped_column(String(36))
    handoff_team_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("teams.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    order: Mapped[int] = mapped_column(Integer, default=0)


class BotUsage(Base):
    """What the bot used in one month (``YYYY-MM``, UTC): replies sent and tokens of every call."""

    __tablename__ = "bot_usage"

    organization_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    bot_replies: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class WritingAssistSettings(TenantModel):
    """The organization's writing assist: on or off, and which model (the bot's, or its own)."""

    __tablename__ = "writing_assist_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_id_indexed = False

    enabled: Mapped[bool] = mapped_column(default=False)
    use_bot_config: Mapped[bool] = mapped_column(default=True)
    provider: Mapped[str | None] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(128))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(String(500))
    max_tokens: Mapped[int] = mapped_column(Integer, default=60)
    instructions: Mapped[str | None] = mapped_column(Text)


class WritingAssistPreference(Base):
    """A user's own switch (absent: on)."""

    __tablename__ = "writing_assist_preferences"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)


class BotSandboxSession(TenantModel):
    """An admin's conversation with a config in the sandbox: the turns so far, kept for the next."""

    __tablename__ = "bot_sandbox_sessions"

    bot_config_id: Mapped[str] = mapped_column(String(36), ForeignKey("bot_configs.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    #: ``[{role: user|assistant, content}]``, oldest first
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class N8nCallback(Base):
    """An N8N answer taken, by the ``messageId`` it carried: a redelivery is answered, not sent again."""

    __tablename__ = "bot_n8n_callbacks"

    organization_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: the bot message it sent (null for a handoff)
    sent_message_id: Mapped[str | None] = mapped_column(String(36))
