"""SQLAlchemy models, one module per aggregate. Importing this package registers every table (the
migrations and the schema test rely on it); code imports models from their own modules."""

from cxinbox.models import (  # noqa: F401 - imported to register their tables
    analytics,
    analytics_rollups,
    audit,
    billing,
    bot,
    bot_metric_days,
    bot_sessions,
    bot_shadow_runs,
    bot_studio,
    bot_turns,
    campaigns,
    event_log,
    identity,
    inbox,
    invitations,
    jobs,
    knowledge,
    knowledge_media,
    knowledge_versions,
    mail,
    organization_settings,
    outbound,
    quick_replies,
    routing,
    tags,
    teams,
    templates,
    tools,
    whatsapp,
)
from cxinbox.models.base import Base, TenantModel

__all__ = ["Base", "TenantModel"]
