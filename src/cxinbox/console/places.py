"""The console's administration pages and the roles that may open each one: the role the API asks
of the page's actions (the header links only the pages the person may open)."""

from __future__ import annotations

from dataclasses import dataclass

from cxinbox.auth.principal import Principal
from cxinbox.models.identity import Role

ADMIN = (Role.ADMIN,)
SUPERVISOR = (Role.ADMIN, Role.SUPERVISOR)
MEMBERS = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


@dataclass(frozen=True)
class Place:
    path: str
    title: str  # a message key
    roles: tuple[Role, ...]


TEAM = Place("/team", "team", ADMIN)
TEAMS = Place("/teams", "teams", ADMIN)
NUMBERS = Place("/numbers", "numbers", SUPERVISOR)
API_KEYS = Place("/api-keys", "api_keys", ADMIN)
BRANDING = Place("/branding", "branding", ADMIN)
BOT = Place("/bot", "bot", SUPERVISOR)
KNOWLEDGE = Place("/knowledge", "knowledge", SUPERVISOR)
ROUTING = Place("/routing", "routing", MEMBERS)
TEMPLATES = Place("/templates", "templates", MEMBERS)
CAMPAIGNS = Place("/campaigns", "campaigns", SUPERVISOR)
ANALYTICS = Place("/analytics", "analytics", SUPERVISOR)
BILLING = Place("/billing", "billing", ADMIN)
#: in the order the header lists them
PLACES = (
    TEAM,
    TEAMS,
    NUMBERS,
    API_KEYS,
    BRANDING,
    BOT,
    KNOWLEDGE,
    ROUTING,
    TEMPLATES,
    CAMPAIGNS,
    ANALYTICS,
    BILLING,
)


def places_for(principal: Principal | None) -> list[Place]:
    if principal is None or principal.organization_id is None:
        return []
    return [place for place in PLACES if principal.has_role(*place.roles)]
