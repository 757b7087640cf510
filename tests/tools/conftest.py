"""The tools suites: the business's API on 127.0.0.1, and an organization with people in it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cxinbox.models.identity import Role
from tests.fakes.business_api import BusinessApi
from tests.fixtures.factories import Factory, Member, Org


@pytest.fixture(scope="session")
def business_api() -> Iterator[BusinessApi]:
    server = BusinessApi()
    server.start()
    yield server
    server.stop()


@dataclass
class People:
    org: Org
    supervisor: Member
    agent: Member
    stranger: Member  # the admin of another organization

    @property
    def admin(self) -> Member:
        return self.org.admin


@pytest.fixture
async def people(factory: Factory) -> People:
    org = await factory.org()
    other = await factory.org()
    return People(
        org,
        await factory.member(org.id, Role.SUPERVISOR),
        await factory.member(org.id, Role.AGENT),
        other.admin,
    )


@pytest.fixture
def private_urls_refused(runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The switch as in production: the suite's settings let 127.0.0.1 through for the fakes."""
    monkeypatch.setattr(runtime.settings, "allow_private_urls", False)
