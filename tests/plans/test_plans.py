from __future__ import annotations

from cxinbox.models.identity import Plan, Role
from cxinbox.plans.limits import LIMIT_NAMES, PLAN_LIMITS


async def test_usage_of_the_callers_organization(client, factory):
    org = await factory.org(plan=Plan.STARTER)
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.get("/plan/usage", headers=agent.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["plan"] == "STARTER"
    assert set(data["limits"]) == set(LIMIT_NAMES)
    seats = data["limits"]["seats"]
    assert seats["limit"] == PLAN_LIMITS[Plan.STARTER]["seats"]
    assert seats["remaining"] == seats["limit"] - seats["used"]


async def test_unlimited_plan(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    limits = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]["limits"]
    assert limits["seats"] == {"used": limits["seats"]["used"], "limit": None, "remaining": None}


async def test_usage_is_per_organization(client, factory):
    org, other = await factory.org(), await factory.org()
    super_admin = await factory.super_admin()
    await client.patch(
        f"/admin/organizations/{org.id}", json={"limitOverrides": {"seats": 9}}, headers=super_admin.headers
    )
    mine = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]
    theirs = (await client.get("/plan/usage", headers=other.admin.headers)).json()["data"]
    assert mine["limits"]["seats"]["limit"] == 9
    assert theirs["limits"]["seats"]["limit"] == PLAN_LIMITS[Plan.FREE]["seats"]


async def test_usage_needs_a_token(client):
    assert (await client.get("/plan/usage")).status_code == 401


async def test_usage_needs_an_organization(client, factory):
    super_admin = await factory.super_admin()
    r = await client.get("/plan/usage", headers=super_admin.headers)
    assert r.status_code == 403


async def test_usage_ignores_query_noise(client, factory):
    org = await factory.org()
    r = await client.get("/plan/usage", params={"plan": "ENTERPRISE"}, headers=org.admin.headers)
    assert r.json()["data"]["plan"] == "FREE"


async def test_public_plans_need_no_token(client):
    r = await client.get("/config/public/plans")
    assert r.status_code == 200, r.text
    plans = r.json()["data"]
    assert [p["plan"] for p in plans] == ["FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE"]
    assert plans[0]["limits"] == PLAN_LIMITS[Plan.FREE]
    assert plans[-1]["limits"]["seats"] is None
