"""An inbox (a connected number, a team with two agents, a supervisor) whose conversations are
routed, and another organization with a team of its own."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fixtures.factories import Org
from tests.fixtures.inbox import Inbox, make_inbox
from tests.fixtures.people import make_team

#: keeps the messages a test stamps "now" in order
_seconds = itertools.count()


@dataclass
class Routing:
    inbox: Inbox
    #: a second team of the organization (nobody in it)
    sales_id: str
    #: another organization, with a number and a team of its own
    theirs: Inbox

    @property
    def other(self) -> Org:
        return self.theirs.org

    @property
    def other_team_id(self) -> str:
        return self.theirs.team_id

    @property
    def admin(self):
        return self.inbox.admin

    @property
    def support_id(self) -> str:
        return self.inbox.team_id

    async def rule(self, conditions: list[dict[str, Any]], team_id: str | None = None, **fields: Any) -> dict:
        body = {"name": "rule", "teamId": team_id or self.support_id, "conditions": conditions, **fields}
        r = await self.inbox.client.post("/routing-rules", json=body, headers=self.admin.headers)
        assert r.status_code == 201, r.text
        return r.json()["data"]

    async def writes_now(self, text: str, *, wa_id: str | None = None) -> str:
        """A customer's message stamped now (inside the 24-hour window); the conversation's id."""
        return await self.inbox.customer_writes(
            text, wa_id=wa_id, timestamp=int(time.time()) + next(_seconds)
        )


def cond(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


@pytest.fixture
async def routing(client, runtime, factory, graph) -> Routing:
    inbox = await make_inbox(client, runtime, factory, graph)
    theirs = await make_inbox(client, runtime, factory, graph)
    return Routing(inbox, await make_team(runtime, inbox.org.id), theirs)
