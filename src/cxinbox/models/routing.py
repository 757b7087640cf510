"""Routing: the rules that give a conversation its team, and the organization's routing settings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import OneRowPerOrganization, TenantModel


class MatchType(enum.StrEnum):
    ALL = "ALL"
    ANY = "ANY"


class IdleAction(enum.StrEnum):
    SET_AWAY = "SET_AWAY"
    RELEASE = "RELEASE"
    BOTH = "BOTH"


class RoutingRule(TenantModel):
    """``conditions`` is a list of ``{"field", "operator", "value"}`` as the API took them (checked
    when saved, see ``routing/conditions.py``). Lower ``priority`` runs first."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("ix_routing_rules_org_priority", "organization_id", "priority", "id"),)
    organization_id_indexed = False  # the priority index leads with it

    name: Mapped[str] = mapped_column(String(120))
    team_id: Mapped[str] = mapped_column(String(36), ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    match_type: Mapped[MatchType] = mapped_column(default=MatchType.ALL)
    priority: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(default=True)


class RoutingSettings(OneRowPerOrganization, TenantModel):
    """One row per organization, created on its first change; until then the defaults apply.

    ``business_slots`` is a list of ``{"day": "monday", "start": "HH:MM", "end": "HH:MM"}`` wall-clock
    times of ``business_timezone``; ``business_exceptions`` is stored like a team schedule's."""

    __tablename__ = "routing_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_id_indexed = False  # the unique constraint leads with it

    default_team_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("teams.id", ondelete="SET NULL")
    )
    business_hours_enabled: Mapped[bool] = mapped_column(default=False)
    business_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_slots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    business_exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    off_hours_auto_reply: Mapped[bool] = mapped_column(default=False)
    off_hours_message: Mapped[str | None] = mapped_column(Text)
    maintenance_mode: Mapped[bool] = mapped_column(default=False)
    maintenance_message: Mapped[str | None] = mapped_column(Text)
    #: when maintenance mode was last turned on: each conversation gets the message once per activation
    maintenance_since: Mapped[datetime | None]
    idle_enabled: Mapped[bool] = mapped_column(default=False)
    idle_minutes: Mapped[int] = mapped_column(Integer, default=15)
    idle_action: Mapped[IdleAction] = mapped_column(default=IdleAction.SET_AWAY)
    idle_only_business_hours: Mapped[bool] = mapped_column(default=False)


class AutoReplyKind(enum.StrEnum):
    OFF_HOURS = "OFF_HOURS"
    MAINTENANCE = "MAINTENANCE"


class AutoReply(TenantModel):
    """An automatic reply sent to a conversation, at most one per ``kind`` and ``period``: the closed
    period (the instant business hours open again) or the maintenance activation."""

    __tablename__ = "routing_auto_replies"
    __table_args__ = (UniqueConstraint("conversation_id", "kind", "period"),)

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[AutoReplyKind]
    period: Mapped[str] = mapped_column(String(64))
