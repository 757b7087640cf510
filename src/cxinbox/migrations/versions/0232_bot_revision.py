"""``organizations.bot_revision``: a number that every change of what the bot's turns cache moves.

A turn keeps what rarely changes of its organization (the active config, the settings, the intents,
the tools and their connections, the WhatsApp accounts: ``bot.mind_cache``) in its process, keyed by
this number, which the turn's first statement reads. Triggers bump it on every insert, update and
delete of those tables, whoever writes them (any process, any session, a cascade), so a cached copy
is used only while nothing it holds has changed. An update that moves a row to another organization
bumps both.

Revision ID: 0232
Revises: 0231
Create Date: 2026-12-07 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cxinbox.migrations import row_triggers

revision: str = "0232"
down_revision: str | tuple[str, ...] | None = "0231"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the tables whose rows the bot's turns cache (``bot.mind_cache.Standing``)
TABLES = [
    "bot_configs",
    "bot_intents",
    "bot_tools",
    "connections",
    "whatsapp_accounts",
    "organization_settings",
]
#: the PostgreSQL function all the triggers run
FUNCTION = "bump_bot_revision"
_BUMP = "UPDATE organizations SET bot_revision = bot_revision + 1 WHERE id IN ({ids})"
#: per event: the organizations the changed row belonged to and belongs to
_IDS = {
    "INSERT": "NEW.organization_id",
    "UPDATE": "OLD.organization_id, NEW.organization_id",
    "DELETE": "OLD.organization_id",
}


def _trigger(table: str, event: str) -> str:
    return f"{table}_bot_revision_{event.lower()}"


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(sa.Column("bot_revision", sa.Integer(), server_default="0", nullable=False))
    if row_triggers.postgresql():
        op.execute(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {_BUMP.format(ids=_IDS['INSERT'])}; "
            f"ELSIF TG_OP = 'UPDATE' THEN {_BUMP.format(ids=_IDS['UPDATE'])}; "
            f"ELSE {_BUMP.format(ids=_IDS['DELETE'])}; END IF; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_bot_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
        return
    for table in TABLES:
        for event, ids in _IDS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} FOR EACH ROW "
                f"BEGIN {_BUMP.format(ids=ids)}; END"
            )


def downgrade() -> None:
    if row_triggers.postgresql():
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bot_revision ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for table in TABLES:
            for event in _IDS:
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}")
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_column("bot_revision")
