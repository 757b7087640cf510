"""The unit of work's hooks: what runs after a commit, and what runs after a rollback."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cxinbox.core.db import after_commit, after_rollback
from cxinbox.models.identity import Organization


class Refused(Exception):
    pass


def organization(slug: str) -> Organization:
    return Organization(name="Hooks", slug=slug)


async def slugs_stored(runtime, *slugs: str) -> set[str]:
    async with runtime.unit_of_work() as session:
        return set(await session.scalars(select(Organization.slug).where(Organization.slug.in_(slugs))))


async def test_after_rollback_hooks_run_only_when_the_work_rolls_back(runtime):
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    async with runtime.unit_of_work() as session:
        after_rollback(session, lambda: note("rollback of the committed unit"))
        after_commit(session, lambda: note("commit"))
    with pytest.raises(Refused):
        async with runtime.unit_of_work() as session:
            after_rollback(session, lambda: note("rollback"))
            after_commit(session, lambda: note("commit of the failed unit"))
            raise Refused
    assert ran == ["commit", "rollback"]


async def test_a_commit_that_fails_runs_the_rollback_hooks_which_may_store_their_own_work(runtime):
    taken, kept = f"hooks-{uuid.uuid4().hex}", f"hooks-{uuid.uuid4().hex}"
    async with runtime.unit_of_work() as session:
        session.add(organization(taken))

    async def store_in_own_unit() -> None:
        async with runtime.unit_of_work() as own:
            own.add(organization(kept))

    with pytest.raises(IntegrityError):
        async with runtime.unit_of_work() as session:
            session.add(organization(taken))  # only flushed by the commit, which the slug fails
            after_rollback(session, store_in_own_unit)
    assert await slugs_stored(runtime, taken, kept) == {taken, kept}
