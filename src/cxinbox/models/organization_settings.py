"""Per-organization settings: branding and the feature toggles of ``/config``."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import OneRowPerOrganization, TenantModel


class OrganizationSettings(OneRowPerOrganization, TenantModel):
    """One row per organization, created on its first change; until then the defaults below apply."""

    __tablename__ = "organization_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    # branding
    company_name: Mapped[str | None] = mapped_column(String(200))
    #: a logo hosted elsewhere (``PUT /config/branding``)
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    #: an uploaded logo in the file storage (``POST /config/logo``); takes the place of ``logo_url``
    logo_key: Mapped[str | None] = mapped_column(String(500))
    whatsapp_phone: Mapped[str | None] = mapped_column(String(32))
    primary_color: Mapped[str | None] = mapped_column(String(7))

    # toggles
    auto_categorize: Mapped[bool] = mapped_column(default=False)
    bot_enabled: Mapped[bool] = mapped_column(default=False)
    media_auto_display: Mapped[bool] = mapped_column(default=True)

    # bot handling mode
    bot_outside_hours_only: Mapped[bool] = mapped_column(default=False)
    bot_handoff_on_request: Mapped[bool] = mapped_column(default=True)
    bot_handles_reopened: Mapped[bool] = mapped_column(default=True)
