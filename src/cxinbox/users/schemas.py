from __future__ import annotations

from typing import Literal

from pydantic import Field

from cxinbox.core.bulk import BulkSelection
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.identity import Language, Presence, Role
from cxinbox.models.teams import TeamRole
from cxinbox.sign_in.schemas import EmailBody, UserSummary

MAX_TEAMS_PER_USER = 100


#: roles an organization gives its people (``SUPER_ADMIN`` is the platform's own)
OrgRole = Literal[Role.ADMIN, Role.SUPERVISOR, Role.AGENT]


class UserTeam(ApiModel):
    id: str
    name: str
    role: TeamRole


class UserOut(UserSummary):
    model_config = examples(
        {
            "id": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "email": "ana@example.com",
            "name": "Ana Lima",
            "role": "ADMIN",
            "status": "ONLINE",
            "isActive": True,
            "organizationId": "01a24dda-3f61-7a18-9cfa-b03bb4632f56",
            "createdAt": "2026-12-07T09:14:38.664891Z",
            "hasPassword": True,
            "updatedAt": "2026-12-07T09:20:02.118930Z",
            "lastLoginAt": "2026-12-07T09:14:38.661529Z",
            "avatarUrl": None,
            "teams": [{"id": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553", "name": "Support", "role": "LEAD"}],
            "invitationPending": False,
            "deletedAt": None,
            "language": "es",
        }
    )
    updated_at: UtcDatetime
    last_login_at: UtcDatetime | None
    avatar_url: str | None
    teams: list[UserTeam]
    invitation_pending: bool = Field(description="A valid invitation link waits to be accepted")
    deleted_at: UtcDatetime | None = None
    language: Language | None = Field(
        default=None,
        description="Addition: the language the person chose for the web console (null: their browser's)",
    )


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
