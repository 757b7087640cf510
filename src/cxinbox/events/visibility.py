"""The hook through which areas narrow what each listener of the stream may see.

An area registers a *filter factory*: given a session and the listener's principal, it loads what it
needs once per connection (e.g. an agent's teams) and returns a predicate over events. An event is
sent only if every predicate accepts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal

EventPredicate = Callable[[dict[str, Any]], bool]
FilterFactory = Callable[[AsyncSession, Principal], Awaitable[EventPredicate]]

_FACTORIES: list[FilterFactory] = []


def register_event_filter(factory: FilterFactory) -> FilterFactory:
    if factory not in _FACTORIES:
        _FACTORIES.append(factory)
    return factory


def unregister_event_filter(factory: FilterFactory) -> None:
    if factory in _FACTORIES:
        _FACTORIES.remove(factory)


async def predicate_for(session: AsyncSession, principal: Principal) -> EventPredicate:
    predicates = [await factory(session, principal) for factory in _FACTORIES]
    return lambda event: all(p(event) for p in predicates)
