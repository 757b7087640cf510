"""The hook through which areas say who may see each kind of event on the realtime stream.

The area that publishes a family of events (an event-type prefix such as ``team.``) registers a
*filter factory* for it in its ``register()`` (see ``cxinbox.areas``): given a session and the
listener's principal, it loads what it needs once per connection (e.g. an agent's teams) and returns
a predicate over events. An event is sent only if at least one registered prefix matches its type
and every filter of every matching prefix accepts it: an event type no area registered is denied,
so a process that missed a registration hides events rather than leaking them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal

EventPredicate = Callable[[dict[str, Any]], bool]
FilterFactory = Callable[[AsyncSession, Principal], Awaitable[EventPredicate]]

#: event-type prefix -> the filters that decide who sees events of that family
_FILTERS: dict[str, list[FilterFactory]] = {}


def register_event_filter(prefix: str, factory: FilterFactory) -> None:
    """Let ``factory`` decide who sees events whose type starts with ``prefix``."""
    factories = _FILTERS.setdefault(prefix, [])
    if factory not in factories:
        factories.append(factory)


def unregister_event_filter(prefix: str, factory: FilterFactory) -> None:
    factories = _FILTERS.get(prefix, [])
    if factory in factories:
        factories.remove(factory)
    if not factories:
        _FILTERS.pop(prefix, None)


async def every_member(_session: AsyncSession, _principal: Principal) -> EventPredicate:
    """The filter of a family every member of the organization may see."""
    return lambda _event: True


async def predicate_for(session: AsyncSession, principal: Principal) -> EventPredicate:
    families = [
        (prefix, [await factory(session, principal) for factory in factories])
        for prefix, factories in list(_FILTERS.items())
    ]

    def visible(event: dict[str, Any]) -> bool:
        governing = [
            predicate
            for prefix, predicates in families
            if event["type"].startswith(prefix)
            for predicate in predicates
        ]
        return bool(governing) and all(predicate(event) for predicate in governing)

    return visible
