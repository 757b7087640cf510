"""Bot sessions: a table, and triggers on ``conversations`` that open a session when a conversation
enters BOT_HANDLING and close it when it leaves (ESCALATED to OPEN or HUMAN_HANDLING,
RESOLVED_CONFIRMED to CLOSED), whichever code moved the status.

The session's times are the conversation's ``updated_at`` of that change (the application's
clock, as every other time), its id a random UUID, its config the organization's active one.

Revision ID: 0223
Revises: 0217
Create Date: 2026-12-07 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0223"
down_revision: str | tuple[str, ...] | None = "0217"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_ONLY = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "bot_sessions",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("bot_config_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "closure_type",
            sa.Enum(
                "ESCALATED",
                "RESOLVED_CONFIRMED",
                "ABANDONED",
                name="botsessionclosure",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("handoff_summary", sa.Text(), nullable=True),
        sa.Column("returned_by_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_sessions_bot_config_id_bot_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bot_sessions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["returned_by_id"],
            ["users.id"],
            name=op.f("fk_bot_sessions_returned_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_sessions")),
    )
    op.create_index(
        "uq_bot_sessions_open_conversation",
        "bot_sessions",
        ["conversation_id"],
        unique=True,
        sqlite_where=_OPEN_ONLY,
        postgresql_where=_OPEN_ONLY,
    )
    op.create_index("ix_bot_sessions_org_started", "bot_sessions", ["organization_id", "started_at"])
    op.create_index("ix_bot_sessions_conversation_started", "bot_sessions", ["conversation_id", "started_at"])
    op.create_index(
        "ix_bot_sessions_open_started",
        "bot_sessions",
        ["started_at"],
        sqlite_where=_OPEN_ONLY,
        postgresql_where=_OPEN_ONLY,
    )
    _create_triggers()
    _open_existing()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_bot_sessions_open_started", table_name="bot_sessions")
    op.drop_index("ix_bot_sessions_conversation_started", table_name="bot_sessions")
    op.drop_index("ix_bot_sessions_org_started", table_name="bot_sessions")
    op.drop_index("uq_bot_sessions_open_conversation", table_name="bot_sessions")
    op.drop_table("bot_sessions")


def _open(new_id: str) -> str:
    return (
        "INSERT INTO bot_sessions (id, organization_id, conversation_id, bot_config_id, started_at, "
        "created_at, updated_at) "
        f"SELECT {new_id}, NEW.organization_id, NEW.id, "
        "(SELECT c.id FROM bot_configs c WHERE c.organization_id = NEW.organization_id AND c.is_active "
        "LIMIT 1), NEW.updated_at, NEW.updated_at, NEW.updated_at "
        "WHERE NOT EXISTS (SELECT 1 FROM bot_sessions s WHERE s.conversation_id = NEW.id "
        "AND s.ended_at IS NULL)"
    )


_CLOSE = (
    "UPDATE bot_sessions SET ended_at = NEW.updated_at, updated_at = NEW.updated_at, "
    "closure_type = CASE WHEN NEW.status = 'CLOSED' THEN 'RESOLVED_CONFIRMED' ELSE 'ESCALATED' END "
    "WHERE conversation_id = NEW.id AND ended_at IS NULL"
)
_ENTERS = "NEW.status = 'BOT_HANDLING' AND OLD.status <> 'BOT_HANDLING'"
_LEAVES = "OLD.status = 'BOT_HANDLING' AND NEW.status <> 'BOT_HANDLING'"
_SQLITE_UUID = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || "
    "hex(randomblob(2)) || '-' || hex(randomblob(6)))"
)
_SQLITE_TRIGGERS = ("bot_session_created", "bot_session_entered", "bot_session_left")


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION bot_session_follow_status() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.status = 'BOT_HANDLING' THEN {_open("gen_random_uuid()::text")}; END IF;
                ELSIF {_ENTERS} THEN
                    {_open("gen_random_uuid()::text")};
                ELSIF {_LEAVES} THEN
                    {_CLOSE};
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER conversations_bot_sessions AFTER INSERT OR UPDATE OF status ON conversations "
            "FOR EACH ROW EXECUTE FUNCTION bot_session_follow_status()"
        )
        return
    created, entered, left = _SQLITE_TRIGGERS
    op.execute(
        f"CREATE TRIGGER {created} AFTER INSERT ON conversations WHEN NEW.status = 'BOT_HANDLING' "
        f"BEGIN {_open(_SQLITE_UUID)}; END"
    )
    op.execute(
        f"CREATE TRIGGER {entered} AFTER UPDATE OF status ON conversations WHEN {_ENTERS} "
        f"BEGIN {_open(_SQLITE_UUID)}; END"
    )
    op.execute(
        f"CREATE TRIGGER {left} AFTER UPDATE OF status ON conversations WHEN {_LEAVES} BEGIN {_CLOSE}; END"
    )


def _open_existing() -> None:
    """A session for each conversation already with the bot, from its last change."""
    new_id = "gen_random_uuid()::text" if op.get_bind().dialect.name == "postgresql" else _SQLITE_UUID
    op.execute(
        "INSERT INTO bot_sessions (id, organization_id, conversation_id, bot_config_id, started_at, "
        f"created_at, updated_at) SELECT {new_id}, v.organization_id, v.id, "
        "(SELECT c.id FROM bot_configs c WHERE c.organization_id = v.organization_id AND c.is_active "
        "LIMIT 1), v.updated_at, v.updated_at, v.updated_at FROM conversations v "
        "WHERE v.status = 'BOT_HANDLING'"
    )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS conversations_bot_sessions ON conversations")
        op.execute("DROP FUNCTION IF EXISTS bot_session_follow_status()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
