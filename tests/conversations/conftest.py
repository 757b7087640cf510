import pytest

from tests.fixtures.inbox import make_inbox


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)
