from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.web.helpers import browser


@pytest.fixture
async def site(app) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as client:
        yield client
