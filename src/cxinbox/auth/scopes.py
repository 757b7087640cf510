"""What an API key may call: every route declares the area it belongs to, and a key reaches it only
with that area's scope.

A route declares its rule as route metadata (``dependencies=[key_scope(Area.CONTACTS)]``, usually
once on its router): the access is ``read`` for GET and ``write`` for anything else unless the rule
names it. ``NO_API_KEYS`` marks what no key may do whatever its scopes (key, user, invitation and
credential management); a route that declares nothing refuses keys too, so a forgotten declaration
denies. The check itself runs in one place, where the request's credential becomes a principal.

A key made without scopes (every key made before scopes existed) reaches every area.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, params

from cxinbox.core.errors import Forbidden


class Area(StrEnum):
    """The parts of the API a key can be given, named after their paths."""

    CONVERSATIONS = "conversations"  # conversations, their messages and tags, failed sends, events
    CONTACTS = "contacts"
    TAGS = "tags"  # the tag catalogue
    QUICK_REPLIES = "quick-replies"
    TEMPLATES = "templates"  # WhatsApp message templates: managing them, and sending one
    CAMPAIGNS = "campaigns"  # campaigns, their recipients and costs
    TEAMS = "teams"  # teams, members, schedules
    USERS = "users"  # the people of the organization (read) and their presence (write)
    WHATSAPP = "whatsapp"  # numbers, their health and alerts (never their credentials)
    SETTINGS = "settings"  # /config and the plan's usage
    ANALYTICS = "analytics"  # the organization's figures (read), the AI-query switch (write)


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Areas whose every change is management no key may do (``NO_API_KEYS``): read scope only.
READ_ONLY_AREAS = frozenset({Area.USERS})

#: Every scope a key can hold; ``X:write`` also lets a key read X.
ALL_SCOPES: tuple[str, ...] = tuple(
    f"{area}:{access}"
    for area in Area
    for access in Access
    if access == Access.READ or area not in READ_ONLY_AREAS
)


@dataclass(frozen=True)
class KeyRule:
    """The route metadata read by ``required_scope``; as a dependency it does nothing. Its call is a
    coroutine: FastAPI runs a plain function dependency in a worker thread, a hand-off to another
    thread and back on every request of every route that declares a scope."""

    area: Area | None
    access: Access | None = None

    async def __call__(self) -> None:
        return None

    def scope_for(self, method: str) -> str | None:
        if self.area is None:
            return None
        access = self.access or (Access.READ if method.upper() in READ_METHODS else Access.WRITE)
        return f"{self.area}:{access}"


def key_scope(area: Area, access: Access | None = None) -> params.Depends:
    """Declare the scope an API key needs for a route (or every route of a router)."""
    return Depends(KeyRule(area, access))


#: Key, user, invitation and credential management: refused to every API key.
NO_API_KEYS = Depends(KeyRule(None))


def declared_rule(route: Any) -> KeyRule | None:
    """The rule ``route`` declares; the route's own declaration wins over its router's."""
    rules = [d.dependency for d in getattr(route, "dependencies", ()) if isinstance(d.dependency, KeyRule)]
    return rules[-1] if rules else None


def required_scope(route: Any, method: str) -> str | None:
    """The scope an API key needs to call ``route`` with ``method``; None when no key may."""
    rule = declared_rule(route)
    return rule.scope_for(method) if rule else None


def grants(scopes: frozenset[str] | None, needed: str) -> bool:
    """Whether a key holding ``scopes`` (None: made without scopes) may do ``needed``."""
    if scopes is None:
        return True
    area, _, access = needed.partition(":")
    return needed in scopes or (access == Access.READ and f"{area}:{Access.WRITE}" in scopes)


def ensure_key_may_call(scopes: frozenset[str] | None, route: Any, method: str) -> None:
    needed = required_scope(route, method)
    if needed is None:
        raise Forbidden("API keys cannot manage keys, users, invitations or credentials; sign in as a person")
    if not grants(scopes, needed):
        raise Forbidden(f"The API key lacks the scope {needed}", details={"requiredScope": needed})


def document_key_scopes(document: dict[str, Any], routes: list[Any], prefix: str) -> None:
    """Write each secured operation's key requirement into ``document`` (``x-api-key-scope``: the
    scope, or null when no key may call it), so clients read it beside the operation."""
    for route in routes:
        item = document["paths"].get(prefix + getattr(route, "path", ""), {})
        for method in getattr(route, "methods", ()):
            operation = item.get(method.lower())
            if operation is not None and operation.get("security"):
                operation["x-api-key-scope"] = required_scope(route, method)
