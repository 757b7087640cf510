"""Who sees which conversations — one rule for lists, counts, detail, messages and the event stream.

ADMIN and SUPERVISOR (and API keys, and a super admin inside an organization) see every conversation
of the organization. An AGENT sees the conversations assigned to them and the unassigned ones of the
active teams they belong to. Anything outside a principal's view answers 404, like a missing id
(``repository.visible_conversation``). This module only decides: the scope of a principal
(``ConversationScope``, ``scope_for``) and which stream events reach them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation
from cxinbox.models.teams import Team, TeamMember
from cxinbox.realtime.visibility import EventPredicate


@dataclass(frozen=True)
class ConversationScope:
    sees_all: bool
    user_id: str | None = None
    team_ids: frozenset[str] = frozenset()

    def clause(
        self,
        assigned_to: Any = Conversation.assigned_to_id,
        team: Any = Conversation.team_id,
        unassigned: str | None = None,
    ) -> ColumnElement[bool]:
        """A condition over ``Conversation`` that keeps only what this scope may see (or over other
        columns holding a conversation's assignee and team, where ``unassigned`` marks none)."""
        if self.sees_all:
            return true()
        own = assigned_to == self.user_id if self.user_id else false()
        nobody = assigned_to.is_(None) if unassigned is None else assigned_to == unassigned
        teams_unassigned = and_(nobody, team.in_(self.team_ids)) if self.team_ids else false()
        return or_(own, teams_unassigned)

    def allows(self, assigned_to_id: str | None, team_id: str | None) -> bool:
        if self.sees_all:
            return True
        if assigned_to_id is not None:
            return assigned_to_id == self.user_id
        return self.queues(team_id)

    def queues(self, team_id: str | None) -> bool:
        """Whether unassigned conversations of ``team_id`` are in this scope's queue."""
        return self.sees_all or (team_id is not None and team_id in self.team_ids)


async def scope_for(session: AsyncSession, principal: Principal) -> ConversationScope:
    if principal.has_role(Role.ADMIN, Role.SUPERVISOR):
        return ConversationScope(sees_all=True)
    user_id = principal.require_user()
    team_ids = await session.scalars(
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user_id,
            TeamMember.organization_id == principal.tenant.organization_id,
            Team.is_active.is_(True),
        )
    )
    return ConversationScope(sees_all=False, user_id=user_id, team_ids=frozenset(team_ids))


async def conversation_event_filter(session: AsyncSession, principal: Principal) -> EventPredicate:
    """Events about a conversation (their audience names it) reach only those who may see it, or
    who could see it just before the change the event reports (``previousAssignedToId``,
    ``previousTeamId``)."""
    if principal.organization_id is None:
        return lambda _event: False
    scope = await scope_for(session, principal)

    def visible(event: dict[str, Any]) -> bool:
        audience = event.get("audience") or {}
        if "conversationId" not in audience:
            return True
        assigned_to_id, team_id = audience.get("assignedToId"), audience.get("teamId")
        if scope.allows(assigned_to_id, team_id):
            return True
        # a conversation that just left someone's view (reassigned, moved to another team): they
        # still get this last event, so their inbox drops it
        if "previousAssignedToId" in audience or "previousTeamId" in audience:
            return scope.allows(
                audience.get("previousAssignedToId", assigned_to_id), audience.get("previousTeamId", team_id)
            )
        return False

    return visible
