"""The migrations produce exactly the schema the models describe, on the suite's database."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cxinbox.migrations import include_object
from cxinbox.models import Base


async def test_models_and_migrations_agree(runtime):
    def diff(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, Base.metadata)

    async with runtime.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == [], f"models differ from migrations: {changes}"
