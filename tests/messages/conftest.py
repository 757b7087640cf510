import pytest

from tests.fixtures.sending import make_thread


@pytest.fixture
async def thread(runtime, graph, factory):
    """A conversation of a new organization whose customer wrote five minutes ago."""
    return await make_thread(runtime, graph, await factory.org())
