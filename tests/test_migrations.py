"""The migrations produce exactly the schema the models describe, on the suite's database; data
migrations do what they say, on a database of their own."""

import asyncio
import re
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox import migrations
from cxinbox.core.clock import utcnow
from cxinbox.core.db import create_engine, create_sessionmaker, unit_of_work
from cxinbox.core.ids import new_id
from cxinbox.migrations import alembic_config, include_object, new_revision, upgrade
from cxinbox.models import Base
from cxinbox.models.audit import AuditEntry
from cxinbox.models.base import UtcDateTime
from cxinbox.models.identity import Role, User
from cxinbox.users.service import released_email
from tests.fixtures.factories import unique_email

T = TypeVar("T")


async def test_models_and_migrations_agree(runtime):
    def diff(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, Base.metadata)

    async with runtime.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == [], f"models differ from migrations: {changes}"


async def _stored(database_url: str, build: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``build`` in a unit of work on a database of its own (not the suite's runtime)."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await build(session)
    finally:
        await engine.dispose()


async def _insert_user(session: AsyncSession, **values: object) -> str:
    """A user row with only the columns given (and their defaults): the ORM would name every column
    the model has now, which a database at an older revision lacks."""
    user_id = new_id()
    await session.execute(insert(User.__table__).values(id=user_id, **values))
    return user_id


async def _emails(session: AsyncSession) -> dict[str, str]:
    return {row.id: row.email for row in await session.execute(select(User.id, User.email))}


async def _old_organization(session: AsyncSession) -> str:
    """An organization inserted with the columns of revision 0202 only (the model has more since)."""
    org_id = new_id()
    now = utcnow()
    organizations = table(
        "organizations",
        *(column(name) for name in ("id", "name", "slug", "plan", "status", "limit_overrides")),
        column("created_at", UtcDateTime()),
        column("updated_at", UtcDateTime()),
    )
    await session.execute(
        insert(organizations).values(
            id=org_id,
            name="Org",
            slug="org",
            plan="FREE",
            status="ACTIVE",
            limit_overrides="{}",
            created_at=now,
            updated_at=now,
        )
    )
    return org_id


async def test_0203_frees_the_emails_of_deleted_users_and_0202_restores_them(tmp_path):
    database_url = f"sqlite+aiosqlite:///{tmp_path}/0203.db"
    await asyncio.to_thread(upgrade, database_url, "0202")
    live, audited, unaudited = (unique_email(label) for label in ("live", "audited", "unaudited"))

    async def before(session: AsyncSession) -> dict[str, str]:
        org_id = await _old_organization(session)
        users = {
            email: await _insert_user(
                session, organization_id=org_id, email=email, name="N", role=Role.AGENT, deleted_at=deleted
            )
            for email, deleted in ((live, None), (audited, utcnow()), (unaudited, utcnow()))
        }
        session.add(
            AuditEntry(
                organization_id=org_id,
                actor_role="ADMIN",
                action="user.deleted",
                target_type="user",
                target_id=users[audited],
                details={"email": audited},
            )
        )
        return users

    ids = await _stored(database_url, before)
    await asyncio.to_thread(upgrade, database_url, "0203")

    async def after_upgrade(session: AsyncSession) -> tuple[dict[str, str], dict[str, str]]:
        entries = await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.deleted"))
        kept = {entry.target_id: entry.details["email"] for entry in entries if entry.target_id}
        # the address of the unaudited user has an account again, so a downgrade must leave it freed
        await _insert_user(
            session, organization_id=None, email=unaudited, name="Again", role=Role.SUPER_ADMIN
        )
        return await _emails(session), kept

    emails, kept = await _stored(database_url, after_upgrade)
    assert emails[ids[live]] == live
    for email in (audited, unaudited):
        assert emails[ids[email]] == released_email(ids[email])
        assert kept[ids[email]] == email

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0202")
    emails = await _stored(database_url, _emails)
    assert (emails[ids[live]], emails[ids[audited]]) == (live, audited)
    assert emails[ids[unaudited]] == released_email(ids[unaudited])


def test_the_migrations_have_exactly_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: revise the newest one, or merge them"


def test_a_new_revision_is_named_by_date_and_follows_the_head(tmp_path):
    scripts = tmp_path / "migrations"
    shutil.copytree(Path(migrations.__file__).parent, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(alembic_config("sqlite://", scripts)).get_current_head()

    written = new_revision(f"sqlite+aiosqlite:///{tmp_path}/new.db", "add a thing", scripts)

    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]{12}_add_a_thing\.py", written.name), written.name
    new_scripts = ScriptDirectory.from_config(alembic_config("sqlite://", scripts))
    assert new_scripts.get_heads() == [new_scripts.get_revision("head").revision]
    assert new_scripts.get_revision("head").down_revision == head


async def test_0209_keeps_existing_names_as_profile_names(tmp_path):
    database_url = f"sqlite+aiosqlite:///{tmp_path}/0209.db"
    await asyncio.to_thread(upgrade, database_url, "0204")
    with sqlite3.connect(tmp_path / "0209.db") as db:
        db.execute(
            "INSERT INTO organizations (id, name, slug, plan, status, created_at, updated_at) "
            "VALUES ('o1', 'Org', 'org', 'FREE', 'ACTIVE', '2026-01-01', '2026-01-01')"
        )
        db.execute(
            "INSERT INTO contacts (id, organization_id, wa_id, name, created_at, updated_at) "
            "VALUES ('c1', 'o1', '123', 'Dana', '2026-01-01', '2026-01-01')"
        )
    await asyncio.to_thread(upgrade, database_url, "0209")
    with sqlite3.connect(tmp_path / "0209.db") as db:
        row = db.execute("SELECT name, profile_name, name_edited FROM contacts").fetchone()
    assert row == ("Dana", "Dana", 0)


async def test_0228_indexes_existing_chunks_under_their_organization_and_0224_restores_the_index(tmp_path):
    database_url = f"sqlite+aiosqlite:///{tmp_path}/0228.db"
    await asyncio.to_thread(upgrade, database_url, "0224")
    with sqlite3.connect(tmp_path / "0228.db") as db:
        for org in ("o1", "o2"):
            db.execute(
                "INSERT INTO organizations (id, name, slug, plan, status, created_at, updated_at) "
                f"VALUES ('{org}', 'Org', '{org}', 'FREE', 'ACTIVE', '2026-01-01', '2026-01-01')"
            )
            db.execute(
                "INSERT INTO knowledge_documents (id, organization_id, filename, kind, mime_type, size, "
                "sha256, storage_key, status, progress, chunk_count, created_at, updated_at) VALUES "
                f"('d-{org}', '{org}', 'a.txt', 'txt', 'text/plain', 1, 'x', 'k', 'READY', 100, 1, "
                "'2026-01-01', '2026-01-01')"
            )
            db.execute(
                'INSERT INTO knowledge_chunks (id, organization_id, document_id, "index", content, '
                "token_count, search_text, created_at, updated_at) VALUES "
                f"('c-{org}', '{org}', 'd-{org}', 0, 'Envíos', 2, 'envi gratis', '2026-01-01', '2026-01-01')"
            )
    await asyncio.to_thread(upgrade, database_url, "0228")
    with sqlite3.connect(tmp_path / "0228.db") as db:
        found = db.execute(
            "SELECT chunk FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH 'body:(\"ko1envi\")'"
        ).fetchall()
        assert found == [("co1",)]  # ids in the index lose their hyphens
        db.execute("DELETE FROM knowledge_chunks WHERE id = 'c-o1'")
        assert db.execute("SELECT count(*) FROM knowledge_chunks_fts").fetchone() == (1,)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0224")
    with sqlite3.connect(tmp_path / "0228.db") as db:
        found = db.execute(
            "SELECT chunk FROM knowledge_chunks_fts "
            "WHERE knowledge_chunks_fts MATCH 'tenant:o2 AND body:envi'"
        ).fetchall()
        assert found == [("co2",)]
