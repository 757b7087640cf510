from __future__ import annotations

import pytest
from sqlalchemy import select

from cxinbox.models.audit import AuditEntry
from cxinbox.runtime import Runtime
from tests.fixtures.factories import Factory, Member


@pytest.fixture
async def super_admin(factory: Factory) -> Member:
    return await factory.super_admin()


async def audit_entries(runtime: Runtime, organization_id: str, action: str) -> list[AuditEntry]:
    async with runtime.unit_of_work() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organization_id == organization_id, AuditEntry.action == action)
            .order_by(AuditEntry.created_at)
        )
        return list(rows.all())
