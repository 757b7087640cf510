from __future__ import annotations

from typing import Literal

from pydantic import Field

from cxinbox.accounts.schemas import EmailBody, UserSummary
from cxinbox.core.bulk import BulkSelection
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime
from cxinbox.models.identity import Presence, Role
from cxinbox.models.teams import TeamRole

MAX_TEAMS_PER_USER = 100


#: roles an organization gives its people (``SUPER_ADMIN`` is the platform's own)
OrgRole = Literal[Role.ADMIN, Role.SUPERVISOR, Role.AGENT]


class UserTeam(ApiModel):
    id: str
    name: str
    role: TeamRole


class UserOut(UserSummary):
    updated_at: UtcDatetime
    last_login_at: UtcDatetime | None
    avatar_url: str | None
    teams: list[UserTeam]
    invitation_pending: bool = Field(description="A valid invitation link waits to be accepted")
    deleted_at: UtcDatetime | None = None


class CreateUser(EmailBody):
    name: str = Field(min_length=1, max_length=200)
    role: OrgRole = Role.AGENT
    team_ids: list[Id] = Field(default_factory=list, max_length=MAX_TEAMS_PER_USER)


class UpdateUser(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: OrgRole | None = None
    team_ids: list[Id] | None = Field(
        default=None, max_length=MAX_TEAMS_PER_USER, description="Replaces the user's teams"
    )
    is_active: bool | None = None


class UpdatePresence(RequestModel):
    status: Presence


class UserFilter(RequestModel):
    """The filters of ``GET /users``, also usable as a bulk selection's ``filter``."""

    search: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    status: Presence | None = None
    team_id: str | None = None


BulkUserAction = Literal["delete", "activate", "deactivate", "setRole", "resendInvite"]


class BulkUsers(RequestModel):
    action: BulkUserAction
    selection: BulkSelection
    role: OrgRole | None = Field(default=None, description="The new role, for action `setRole`")
