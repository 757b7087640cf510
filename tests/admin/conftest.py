from __future__ import annotations

import pytest

from tests.fixtures.factories import Factory, Member


@pytest.fixture
async def super_admin(factory: Factory) -> Member:
    return await factory.super_admin()
