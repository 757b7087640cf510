"""What creating a campaign costs the database: the same statements whatever the number of
recipients, and recipient ids that ascend in request order (PostgreSQL's primary key index appends
them instead of searching for a random place)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.campaigns import CampaignRecipient
from tests.campaigns.helpers import create, phones, template
from tests.fixtures.inbox import make_inbox
from tests.fixtures.statements import statements_of

pytestmark = pytest.mark.usefixtures("graph")


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _on_recipients(statement: str) -> bool:
    """The statements over the recipients' numbers: their windows and their rows."""
    return "FROM contacts" in statement or "campaign_recipients" in statement


async def test_creation_runs_the_same_statements_for_3_or_6000_recipients(inbox, client, runtime):
    # a utility template: the numbers' 24-hour windows are asked (they make it free)
    template_id = await template(inbox, client, runtime, "UTILITY")
    ran = []
    for count in (3, 6_000):
        future = {"scheduledAt": "2099-01-01T00:00:00Z"}
        with statements_of(runtime, _on_recipients, own_tasks_only=True) as statements:
            created = await create(client, inbox.admin, template_id, phones(count), **future)
        assert created["counts"]["total"] == count
        ran.append(len(statements))
    assert ran == [2, 2], ran


async def test_recipient_ids_ascend_in_request_order(inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    numbers = phones(500)
    created = await create(client, inbox.admin, template_id, numbers, scheduledAt="2099-01-01T00:00:00Z")
    async with runtime.unit_of_work() as session:
        rows = (
            await session.execute(
                select(CampaignRecipient.id, CampaignRecipient.phone)
                .where(CampaignRecipient.campaign_id == created["id"])
                .order_by(CampaignRecipient.position)
            )
        ).all()
    assert [phone for _, phone in rows] == [n.lstrip("+") for n in numbers]
    ids = [id_ for id_, _ in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
