"""Teams of an organization and who is in them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class TeamRole(enum.StrEnum):
    LEAD = "LEAD"
    MEMBER = "MEMBER"


class AssignmentStrategy(enum.StrEnum):
    ROUND_ROBIN = "ROUND_ROBIN"
    LEAST_BUSY = "LEAST_BUSY"


class Team(TenantModel):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: waiting conversations of the team are given to its ONLINE members (``routing/assigner.py``)
    auto_assign: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    assignment_strategy: Mapped[AssignmentStrategy] = mapped_column(
        default=AssignmentStrategy.ROUND_ROBIN, server_default=AssignmentStrategy.ROUND_ROBIN.value
    )
    max_concurrent_per_agent: Mapped[int] = mapped_column(default=5, server_default=text("5"))


class TeamMember(TenantModel):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_id: Mapped[str] = mapped_column(String(36), ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(default=TeamRole.MEMBER)
    #: when auto-assignment last gave this member a conversation of the team (round robin's turn)
    last_assigned_at: Mapped[datetime | None]


class TeamSchedule(TenantModel):
    """A team's working hours (at most one per team). The slots are wall-clock times of ``timezone``
    (an IANA name), stored as the API writes them: ``weekly_hours`` maps each weekday name to a list
    of ``{"start": "HH:MM", "end": "HH:MM"}``; ``exceptions`` is a list of
    ``{"date": "YYYY-MM-DD", "name": str | None, "slots": [...]}`` (no slots: closed all day)."""

    __tablename__ = "team_schedules"

    team_id: Mapped[str] = mapped_column(String(36), ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
