"""What the conversation page offers to choose from: the people and teams a conversation can be
assigned to (for those who may move it: admins and supervisors) and the organization's tags."""

from __future__ import annotations

from dataclasses import dataclass

from cxinbox.console.visit import Visit
from cxinbox.core.pagination import PageParams
from cxinbox.models.identity import Role, User
from cxinbox.tags import service as tags
from cxinbox.tags.schemas import TagOut
from cxinbox.teams import service as teams
from cxinbox.teams.schemas import TeamOut
from cxinbox.users import service as users
from cxinbox.users.schemas import UserFilter

#: the most people the assignment list offers
SHOWN = 200


@dataclass(frozen=True)
class Choices:
    people: list[User]
    teams: list[TeamOut]
    tags: list[TagOut]

    @property
    def can_move(self) -> bool:
        return bool(self.people)


async def choices(visit: Visit) -> Choices:
    principal = visit.member
    async with visit.runtime.read_session() as session:
        found_tags = [TagOut.model_validate(t) for t in await tags.list_tags(session, principal.tenant)]
        if not principal.has_role(Role.ADMIN, Role.SUPERVISOR):
            return Choices([], [], found_tags)
        people, _ = await users.list_users(
            session, principal, UserFilter(is_active=True), PageParams(page=1, limit=SHOWN)
        )
        found_teams = await teams.list_teams(session, principal, include_inactive=False)
    return Choices(list(people), found_teams, found_tags)
