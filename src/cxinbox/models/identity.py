"""Organizations, users and the credentials that identify them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxinbox.models.base import Base, IdMixin, TenantModel, TimestampMixin


class Plan(enum.StrEnum):
    FREE = "FREE"
    STARTER = "STARTER"
    PROFESSIONAL = "PROFESSIONAL"
    ENTERPRISE = "ENTERPRISE"


class OrganizationStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CANCELLED = "CANCELLED"


class Role(enum.StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    ADMIN = "ADMIN"
    SUPERVISOR = "SUPERVISOR"
    AGENT = "AGENT"


class Presence(enum.StrEnum):
    ONLINE = "ONLINE"
    AWAY = "AWAY"
    BUSY = "BUSY"
    OFFLINE = "OFFLINE"


class Language(enum.StrEnum):
    """The languages the web console speaks."""

    EN = "en"
    ES = "es"


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    plan: Mapped[Plan] = mapped_column(default=Plan.FREE)
    status: Mapped[OrganizationStatus] = mapped_column(default=OrganizationStatus.ACTIVE)
    onboarding_completed_at: Mapped[datetime | None]
    #: per-organization exceptions to its plan's limits, e.g. ``{"seats": 50}``
    limit_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: seats bought on top of the plan's (extra agent blocks of the Stripe subscription)
    extra_seats: Mapped[int] = mapped_column(default=0, server_default="0")
    #: moved by triggers on every change of what the bot's turns cache (``bot.mind_cache``)
    bot_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def onboarding_completed(self) -> bool:
        return self.onboarding_completed_at is not None


class User(IdMixin, TimestampMixin, Base):
    """A person who signs in. ``organization_id`` is empty only for the platform's super admins."""

    __tablename__ = "users"

    organization_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role]
    status: Mapped[Presence] = mapped_column(default=Presence.OFFLINE)
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    #: storage key of the profile picture (``public/avatars/…``)
    avatar_key: Mapped[str | None] = mapped_column(String(500))
    #: the language the person chose for the console (None: their browser's)
    language: Mapped[Language | None]

    organization: Mapped[Organization | None] = relationship(lazy="raise")

    @property
    def can_sign_in(self) -> bool:
        return self.is_active and self.deleted_at is None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None


class RefreshToken(IdMixin, Base):
    """One link of a rotation chain. Tokens of one sign-in share a ``family_id``; presenting a spent
    token revokes the whole family (the token was stolen, or the legitimate client was)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: set when a super admin acts inside an organization with these tokens
    acting_organization_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiKey(TenantModel):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    usage_count: Mapped[int] = mapped_column(default=0)
    #: what the key may do (``auth/scopes.py``); None: made without scopes, every area
    scopes: Mapped[list[str] | None] = mapped_column(JSON)


class LoginCode(IdMixin, Base):
    """A one-time sign-in code sent by email; stored hashed, limited in time and attempts."""

    __tablename__ = "login_codes"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]
