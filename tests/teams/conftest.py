"""An organization with one user of each role and a team, plus a second organization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from cxinbox.models.audit import AuditEntry
from cxinbox.models.event_log import EventRecord
from cxinbox.models.identity import Role
from tests.fixtures.factories import Member, Org


@dataclass
class Teams:
    org: Org
    supervisor: Member
    agent: Member
    #: an agent who belongs to ``team_id``
    team_agent: Member
    team_id: str
    other: Org
    other_team_id: str

    @property
    def admin(self) -> Member:
        return self.org.admin


def team_name() -> str:
    return f"Team {uuid.uuid4().hex[:8]}"


async def create_team(client, member: Member, **fields: Any) -> dict[str, Any]:
    r = await client.post("/teams", json={"name": team_name(), **fields}, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


@pytest.fixture
async def teams(client, factory) -> Teams:
    org, other = await factory.org(), await factory.org()
    team = await create_team(client, org.admin)
    team_agent = await factory.member(org.id, Role.AGENT)
    r = await client.post(
        f"/teams/{team['id']}/members", json={"userId": team_agent.id}, headers=org.admin.headers
    )
    assert r.status_code == 201, r.text
    return Teams(
        org=org,
        supervisor=await factory.member(org.id, Role.SUPERVISOR),
        agent=await factory.member(org.id, Role.AGENT),
        team_agent=team_agent,
        team_id=team["id"],
        other=other,
        other_team_id=(await create_team(client, other.admin))["id"],
    )


async def audit_actions(runtime, organization_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.unit_of_work() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organization_id == organization_id)
            .order_by(AuditEntry.created_at)
        )
        return [(row.action, row.details) for row in rows]


async def events(runtime, organization_id: str) -> list[EventRecord]:
    async with runtime.unit_of_work() as session:
        rows = await session.scalars(
            select(EventRecord)
            .where(EventRecord.organization_id == organization_id)
            .order_by(EventRecord.seq)
        )
        return list(rows)
