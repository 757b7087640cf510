from __future__ import annotations

import pytest

from tests.analytics.history import History, build


@pytest.fixture(scope="module")
async def history(runtime, graph) -> History:
    return await build(runtime, graph)
