"""What the realtime stream shows of teams: an AGENT only sees events of the teams it belongs to
(after the change), as it may only read those teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.models.identity import Role
from cxinbox.realtime.visibility import EventPredicate

TEAM_EVENT_PREFIX = "team."


def audience(team_id: str, member_ids: list[str]) -> dict[str, Any]:
    return {"teamId": team_id, "memberIds": member_ids}


async def agents_see_their_own_teams(_session: AsyncSession, principal: Principal) -> EventPredicate:
    if principal.role != Role.AGENT:
        return lambda _event: True
    user_id = principal.user_id

    def visible(event: dict[str, Any]) -> bool:
        if not event["type"].startswith(TEAM_EVENT_PREFIX):
            return True
        return user_id in event.get("audience", {}).get("memberIds", [])

    return visible
