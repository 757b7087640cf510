from __future__ import annotations

from pydantic import Field

from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.core.bulk import BulkResult
from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.identity import Role
from cxinbox.models.invitations import InvitationStatus
from cxinbox.models.mail import MailState
from cxinbox.sign_in.schemas import EmailBody
from cxinbox.users.schemas import MAX_TEAMS_PER_USER, OrgRole

MAX_BULK_INVITATIONS = 100


class CreateInvitation(EmailBody):
    model_config = examples(
        {
            "email": "bo@example.com",
            "role": "AGENT",
            "name": "Bo Chen",
            "teamIds": ["01a24ddb-6a7c-7ac7-aaef-fb9d5951a553"],
        }
    )
    role: OrgRole = Role.AGENT
    name: str | None = Field(default=None, min_length=1, max_length=200, description="A suggested name")
    team_ids: list[Id] = Field(default_factory=list, max_length=MAX_TEAMS_PER_USER)


class BulkInvitations(RequestModel):
    invitations: list[CreateInvitation] = Field(min_length=1, max_length=MAX_BULK_INVITATIONS)


class AcceptInvitation(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class Inviter(ApiModel):
    id: str
    name: str


class InvitationOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6bb3-733b-91f2-d93cb95741e5",
            "email": "bo@example.com",
            "name": "Bo Chen",
            "role": "AGENT",
            "teamIds": ["01a24ddb-6a7c-7ac7-aaef-fb9d5951a553"],
            "status": "PENDING",
            "userId": None,
            "invitedBy": {"id": "01a24dda-3f64-7b6e-a01c-8d0461196f48", "name": "Ana Lima"},
            "expiresAt": "2026-12-14T09:15:55.313933Z",
            "sentAt": "2026-12-07T09:15:55.313933Z",
            "sendCount": 1,
            "mailStatus": "SENT",
            "acceptedAt": None,
            "revokedAt": None,
            "createdAt": "2026-12-07T09:15:55.315870Z",
        }
    )
    id: str
    email: str
    name: str | None
    role: Role
    team_ids: list[str]
    status: InvitationStatus
    user_id: str | None = Field(description="Set when the invitation welcomes a user an admin created")
    invited_by: Inviter | None
    expires_at: UtcDatetime
    sent_at: UtcDatetime = Field(description="When the latest link was issued (see `mailStatus`)")
    send_count: int
    mail_status: MailState | None = Field(
        description="Whether the email with the latest link has gone out: QUEUED (waiting, or retrying "
        "while the mail server is unreachable), SENDING, SENT (the mail server took it) or FAILED"
    )
    accepted_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    created_at: UtcDatetime


class BulkInvitationResult(BulkResult):
    """``failed[].id`` is the email that could not be invited."""

    invitations: list[InvitationOut]


class InvitingOrganization(ApiModel):
    id: str
    name: str


class PublicInvitation(ApiModel):
    """What the person holding the link may see before accepting."""

    email: str
    name: str | None
    role: Role
    status: InvitationStatus
    expires_at: UtcDatetime
    organization: InvitingOrganization
    invited_by: str | None = Field(description="The inviter's name")
