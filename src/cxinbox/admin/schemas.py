from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, field_validator

from cxinbox.core.bulk import BulkSelection
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime
from cxinbox.models.identity import OrganizationStatus, Plan
from cxinbox.plans.limits import LIMIT_NAMES
from cxinbox.plans.schemas import LimitUsageOut
from cxinbox.sign_in.schemas import OrganizationSummary, TokenBundle, UserSummary

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class OrganizationSortBy(enum.StrEnum):
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    NAME = "name"
    SLUG = "slug"
    PLAN = "plan"
    STATUS = "status"


class SortOrder(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class OrganizationFilter(RequestModel):
    """Which organizations a list or a bulk action (``selection.mode = "filter"``) covers."""

    search: str | None = Field(default=None, max_length=200, description="Part of the name or slug")
    plan: Plan | None = None
    status: OrganizationStatus | None = None


class AdminOrganization(OrganizationSummary):
    limit_overrides: dict[str, int | None] = Field(
        description="Exceptions to the plan's limits (null is unlimited)"
    )
    updated_at: UtcDatetime


class AdminOrganizationListItem(AdminOrganization):
    user_count: int


class AdminUser(UserSummary):
    last_login_at: UtcDatetime | None


class OrganizationCounts(ApiModel):
    users: int
    active_users: int
    users_by_role: dict[str, int]
    api_keys: int
    teams: int


class AdminOrganizationDetail(AdminOrganization):
    counts: OrganizationCounts
    usage: dict[str, LimitUsageOut] = Field(description="Each plan limit against current usage")


class OrganizationCreated(AdminOrganization):
    admin: AdminUser


class CreateOrganization(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(
        default=None,
        min_length=2,
        max_length=100,
        pattern=SLUG_PATTERN,
        description="Lowercase letters, digits and hyphens; derived from the name when left out",
    )
    admin_email: EmailStr
    admin_name: str = Field(min_length=1, max_length=200)
    plan: Plan = Plan.FREE

    @field_validator("admin_email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


LimitValue = Annotated[int, Field(ge=0)] | None


class UpdateOrganization(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    plan: Plan | None = None
    status: OrganizationStatus | None = Field(
        default=None, description="SUSPENDED or CANCELLED blocks its users; ACTIVE restores access"
    )
    limit_overrides: dict[str, LimitValue] | None = Field(
        default=None,
        description='Replaces the organization\'s limit overrides, e.g. `{"seats": 50}`; a null value '
        f"is unlimited, `{{}}` removes every override. Limit names: {', '.join(LIMIT_NAMES)}",
    )

    @field_validator("limit_overrides")
    @classmethod
    def _known_limits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(value or {}) - set(LIMIT_NAMES))
        if unknown:
            raise ValueError(f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(LIMIT_NAMES)}")
        return value


class OrganizationBulk(RequestModel):
    action: Literal["suspend", "activate", "cancel"]
    selection: BulkSelection = Field(
        description='`{"mode": "ids", "ids": [...]}` or `{"mode": "filter", "filter": '
        '{"search"?, "plan"?, "status"?}}`'
    )


class ResendInvite(RequestModel):
    user_id: str = Field(min_length=1, max_length=64)


class InviteSent(ApiModel):
    user_id: str
    email: str
    sent: bool = True


class EnteredOrganization(TokenBundle):
    """Tokens acting inside ``organization`` as its ADMIN, marked as the super admin's impersonation."""

    organization: AdminOrganization
    impersonating: bool = True


class CountsByKey(ApiModel):
    total: int
    by_plan: dict[str, int] | None = None
    by_status: dict[str, int] | None = None
    by_role: dict[str, int] | None = None


class PlatformStats(ApiModel):
    organizations: CountsByKey
    organizations_created_last_30_days: int
    users: CountsByKey
    active_users: int
    api_keys: int


class SystemConfig(ApiModel):
    settings: dict[str, Any] = Field(description="Effective settings by name; secrets are masked")
    masked_fields: list[str]
    database_backend: str
    redis_enabled: bool
