"""The ``campaigns`` plan limit counts the campaigns created this calendar month, per organization.

Campaigns are stored directly here: creating one over HTTP is not built yet."""

from __future__ import annotations

from datetime import timedelta

from cxinbox.campaigns.usage import month_start
from cxinbox.core.clock import utcnow
from cxinbox.models.campaigns import Campaign
from cxinbox.models.identity import Plan
from cxinbox.plans.limits import PLAN_LIMITS
from tests.fixtures.whatsapp import connect_number


async def test_campaigns_of_this_month_count_against_the_plan(client, runtime, factory, graph):
    org, other = await factory.org(plan=Plan.STARTER), await factory.org()
    account = await connect_number(runtime, graph, org.id)
    this_month = month_start(utcnow())
    async with runtime.sessionmaker() as session, session.begin():
        for created_at in (this_month, this_month + timedelta(seconds=1), this_month - timedelta(seconds=1)):
            session.add(
                Campaign(
                    organization_id=org.id,
                    name="Spring sale",
                    whatsapp_account_id=account.id,
                    language="en_US",
                    created_at=created_at,
                )
            )
    mine = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]["limits"]["campaigns"]
    assert mine == {"used": 2, "limit": PLAN_LIMITS[Plan.STARTER]["campaigns"], "remaining": 18}
    theirs = (await client.get("/plan/usage", headers=other.admin.headers)).json()["data"]["limits"]
    assert theirs["campaigns"]["used"] == 0
