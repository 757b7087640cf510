from __future__ import annotations

from typing import Self

from pydantic import EmailStr, Field, field_validator

from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.auth.refresh import TokenPair
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.identity import OrganizationStatus, Plan, Presence, Role, User


def _normalise_email(value: str) -> str:
    return value.strip().lower()


class EmailBody(RequestModel):
    email: EmailStr

    @field_validator("email")
    @classmethod
    def _lower(cls, v: str) -> str:
        return _normalise_email(v)


class RegisterBody(EmailBody):
    model_config = examples(
        {
            "email": "ana@example.com",
            "password": "correct horse battery",
            "name": "Ana Lima",
            "companyName": "Acme",
        }
    )
    company_name: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class LoginBody(EmailBody):
    model_config = examples({"email": "ana@example.com", "password": "correct horse battery"})
    password: str = Field(min_length=1, max_length=256)


class VerifyCodeBody(EmailBody):
    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="The 6-digit code from the email")


class RefreshBody(RequestModel):
    refresh_token: str = Field(min_length=1)


class SetPasswordBody(RequestModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
    current_password: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Addition to the reference's body: required when the account already has a "
        "password, unless the caller signed in with a one-time code in the last 5 minutes.",
    )


class TokenUser(ApiModel):
    id: str
    email: str
    name: str
    role: Role
    organization_id: str | None


class TokenBundle(ApiModel):
    model_config = examples(
        {
            "accessToken": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMWEyNGRkYSJ9.5O9xQjlwK-FZU97wSU39KspQ",
            "refreshToken": "MEow02OG3Vvosp6bHSLge9cF5J2om1_kFaYiTTzvgjc",
            "expiresIn": 900,
            "user": {
                "id": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
                "email": "ana@example.com",
                "name": "Ana Lima",
                "role": "ADMIN",
                "organizationId": "01a24dda-3f61-7a18-9cfa-b03bb4632f56",
            },
        }
    )
    access_token: str
    refresh_token: str
    expires_in: int
    user: TokenUser

    @classmethod
    def of(cls, user: User, pair: TokenPair) -> Self:
        """The answer of every sign-in (login, code, refresh, accepted invitation)."""
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            user=TokenUser.model_validate(user),
        )


class PasswordSet(TokenBundle):
    """The answer of ``/auth/set-password``: the fresh session to continue with (every other one was
    signed out) and ``updated``, which the endpoint answered alone before it signed sessions out."""

    updated: bool = True


class OrganizationSummary(ApiModel):
    id: str
    name: str
    slug: str
    plan: Plan
    status: OrganizationStatus
    onboarding_completed: bool
    created_at: UtcDatetime


class UserSummary(ApiModel):
    """The user fields every client relies on (CONTRACT §5)."""

    id: str
    email: str
    name: str
    role: Role
    status: Presence
    is_active: bool
    organization_id: str | None
    created_at: UtcDatetime
    has_password: bool


class Me(UserSummary):
    organization: OrganizationSummary | None
    impersonated_by: str | None = None


class CodeRequested(ApiModel):
    sent: bool = True
    expires_in: int
