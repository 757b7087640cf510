"""The business's own systems: connections (a base URL and its credentials), the tools the bot and the
agents call through them, and the organization's customer-account lookup (the integration)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class AuthType(enum.StrEnum):
    NONE = "NONE"
    API_KEY_HEADER = "API_KEY_HEADER"
    API_KEY_QUERY = "API_KEY_QUERY"
    BEARER = "BEARER"
    BASIC = "BASIC"


class EndpointColumns:
    """Where requests go and how they authenticate: what a connection and the integration share."""

    base_url: Mapped[str] = mapped_column(String(2048))
    auth_type: Mapped[AuthType] = mapped_column(default=AuthType.NONE)
    #: the header carrying the key (API_KEY_HEADER) or the query parameter (API_KEY_QUERY)
    header_name: Mapped[str | None] = mapped_column(String(100))
    query_param: Mapped[str | None] = mapped_column(String(100))
    #: fixed headers sent with every request (not secret: shown as they are)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: the credentials (``apiKey``, ``token``, ``username``, ``password``) as encrypted JSON
    secrets_ciphertext: Mapped[str | None] = mapped_column(Text)
    timeout_ms: Mapped[int] = mapped_column(default=10_000)


class Connection(EndpointColumns, TenantModel):
    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True)


class BotTool(TenantModel):
    """A function the LLM (or an agent) may call: its JSON-Schema parameters, and the HTTP request
    it makes, templated over ``{{params.x}}`` and the conversation's variables."""

    __tablename__ = "bot_tools"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    #: the function name the LLM sees: ``^[a-z][a-z0-9_]{0,63}$``
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    connection_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str] = mapped_column(String(8), default="GET")
    #: relative to the connection's base URL
    path: Mapped[str | None] = mapped_column(String(2048))
    #: an absolute URL, for a tool without a connection (no credentials)
    url: Mapped[str | None] = mapped_column(String(2048))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    query: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[Any | None] = mapped_column(JSON)
    result_path: Mapped[str | None] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    available_to_bot: Mapped[bool] = mapped_column(default=True)
    available_to_agents: Mapped[bool] = mapped_column(default=False)
    #: it changes something on the business's side (the bot runs it only in an unflagged turn)
    changes_data: Mapped[bool] = mapped_column(default=False)


class Integration(EndpointColumns, TenantModel):
    """The organization's one customer-account lookup by phone number."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_id_indexed = False

    lookup_path: Mapped[str] = mapped_column(String(2048))
    #: where the account is in the answer (a dot path); the whole answer when empty
    result_path: Mapped[str | None] = mapped_column(String(256))
    #: output field -> dot path inside the account
    field_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    cache_ttl_seconds: Mapped[int] = mapped_column(default=300)
    default_country_code: Mapped[str] = mapped_column(String(4), default="52")
    is_enabled: Mapped[bool] = mapped_column(default=True)


class IntegrationLookup(TenantModel):
    """A cached lookup answer for a number (its last 10 digits)."""

    __tablename__ = "integration_lookups"
    __table_args__ = (UniqueConstraint("organization_id", "phone"),)
    organization_id_indexed = False

    phone: Mapped[str] = mapped_column(String(16))
    found: Mapped[bool]
    data: Mapped[Any | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime]
