"""Bot shadow runs (a draft config replayed over recorded customer turns, and its report), and what
the quality metrics read instead of every turn: a session's count of finished turns
(``bot_sessions.turns``) and a finished conversation turn's model latency
(``bot_turns.model_latency_ms``), both kept by triggers, whichever code writes the rows.

- A turn that becomes DONE on a conversation (inserted so, or updated to it) adds one to the session
  of its conversation that was open when it was taken (``started_at <= created_at`` and not ended
  before it). A session inserted after its turns counts them when it is inserted.
- A DONE conversation turn whose trace has an LLM call gets the trace's ``latencyMs``.

Revision ID: 0225
Revises: 0228
Create Date: 2026-12-07 07:36:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base

revision: str = "0225"
down_revision: str | tuple[str, ...] | None = "0228"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_shadow_runs",
        sa.Column("bot_config_id", sa.String(length=36), nullable=False),
        sa.Column("active_config_id", sa.String(length=36), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED", "RUNNING", "DONE", "FAILED", name="shadowrunstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("running_key", sa.String(length=36), nullable=True),
        sa.Column("turn_ids", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["active_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_shadow_runs_active_config_id_bot_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["bot_config_id"],
            ["bot_configs.id"],
            name=op.f("fk_bot_shadow_runs_bot_config_id_bot_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_bot_shadow_runs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_shadow_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_shadow_runs")),
        sa.UniqueConstraint("running_key", name=op.f("uq_bot_shadow_runs_running_key")),
    )
    with op.batch_alter_table("bot_shadow_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bot_shadow_runs_config_created", ["bot_config_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_shadow_runs_organization_id"), ["organization_id"], unique=False
        )
    op.add_column(
        "bot_sessions", sa.Column("turns", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("bot_turns", sa.Column("model_latency_ms", sa.Integer(), nullable=True))
    op.create_index(
        "ix_bot_turns_org_model_latency",
        "bot_turns",
        ["organization_id", "created_at", "model_latency_ms"],
        sqlite_where=_HAS_LATENCY,
        postgresql_where=_HAS_LATENCY,
    )
    _create_triggers()
    _backfill()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_bot_turns_org_model_latency", table_name="bot_turns")
    with op.batch_alter_table("bot_turns") as batch_op:
        batch_op.drop_column("model_latency_ms")
    with op.batch_alter_table("bot_sessions") as batch_op:
        batch_op.drop_column("turns")
    with op.batch_alter_table("bot_shadow_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_shadow_runs_organization_id"))
        batch_op.drop_index("ix_bot_shadow_runs_config_created")

    op.drop_table("bot_shadow_runs")


_HAS_LATENCY = sa.text("model_latency_ms IS NOT NULL")


def _count_into_sessions(turn: str) -> str:
    """Add the turn to the session of its conversation that was open when it was taken."""
    return (
        f"UPDATE bot_sessions SET turns = turns + 1 WHERE conversation_id = {turn}.conversation_id "
        f"AND started_at <= {turn}.created_at AND (ended_at IS NULL OR ended_at >= {turn}.created_at)"
    )


def _turns_of(session: str) -> str:
    return (
        f"(SELECT count(*) FROM bot_turns t WHERE t.conversation_id = {session}.conversation_id "
        f"AND t.state = 'DONE' AND t.created_at >= {session}.started_at "
        f"AND ({session}.ended_at IS NULL OR t.created_at <= {session}.ended_at))"
    )


_PG_LATENCY = (
    "CASE WHEN NEW.state = 'DONE' AND NEW.conversation_id IS NOT NULL "
    "AND (NEW.trace #>> '{llmCalls,0,latencyMs}') IS NOT NULL "
    "THEN round((NEW.trace ->> 'latencyMs')::numeric)::integer END"
)
_SQLITE_LATENCY = (
    "CASE WHEN NEW.state = 'DONE' AND NEW.conversation_id IS NOT NULL "
    "AND json_extract(NEW.trace, '$.llmCalls[0].latencyMs') IS NOT NULL "
    "THEN CAST(json_extract(NEW.trace, '$.latencyMs') AS INTEGER) END"
)
_DONE = "NEW.state = 'DONE' AND NEW.conversation_id IS NOT NULL"
_BECOMES_DONE = f"{_DONE} AND OLD.state <> 'DONE'"
_SQLITE_TRIGGERS = (
    "bot_turn_done_inserted",
    "bot_turn_done_updated",
    "bot_turn_traced",
    "bot_session_inserted",
)


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION bot_turn_model_latency() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.model_latency_ms := {_PG_LATENCY};
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER bot_turns_model_latency BEFORE INSERT OR UPDATE OF state, trace ON bot_turns "
            "FOR EACH ROW EXECUTE FUNCTION bot_turn_model_latency()"
        )
        op.execute(
            f"""
            CREATE FUNCTION bot_turn_count_in_session() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {_DONE} AND (TG_OP = 'INSERT' OR OLD.state <> 'DONE') THEN
                    {_count_into_sessions("NEW")};
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER bot_turns_session_turns AFTER INSERT OR UPDATE OF state ON bot_turns "
            "FOR EACH ROW EXECUTE FUNCTION bot_turn_count_in_session()"
        )
        op.execute(
            f"""
            CREATE FUNCTION bot_session_count_turns() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.turns := {_turns_of("NEW")};
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER bot_sessions_turns BEFORE INSERT ON bot_sessions "
            "FOR EACH ROW EXECUTE FUNCTION bot_session_count_turns()"
        )
        return
    inserted, updated, traced, session = _SQLITE_TRIGGERS
    set_latency = f"UPDATE bot_turns SET model_latency_ms = {_SQLITE_LATENCY} WHERE id = NEW.id"
    op.execute(
        f"CREATE TRIGGER {inserted} AFTER INSERT ON bot_turns WHEN {_DONE} "
        f"BEGIN {_count_into_sessions('NEW')}; {set_latency}; END"
    )
    op.execute(
        f"CREATE TRIGGER {updated} AFTER UPDATE OF state ON bot_turns WHEN {_BECOMES_DONE} "
        f"BEGIN {_count_into_sessions('NEW')}; END"
    )
    op.execute(f"CREATE TRIGGER {traced} AFTER UPDATE OF state, trace ON bot_turns BEGIN {set_latency}; END")
    op.execute(
        f"CREATE TRIGGER {session} AFTER INSERT ON bot_sessions "
        f"BEGIN UPDATE bot_sessions SET turns = {_turns_of('NEW')} WHERE id = NEW.id; END"
    )


def _backfill() -> None:
    op.execute(f"UPDATE bot_sessions SET turns = {_turns_of('bot_sessions')}")
    latency = _PG_LATENCY if op.get_bind().dialect.name == "postgresql" else _SQLITE_LATENCY
    op.execute(
        f"UPDATE bot_turns SET model_latency_ms = {latency.replace('NEW.', '')} "
        "WHERE state = 'DONE' AND conversation_id IS NOT NULL"
    )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bot_sessions_turns ON bot_sessions")
        op.execute("DROP TRIGGER IF EXISTS bot_turns_session_turns ON bot_turns")
        op.execute("DROP TRIGGER IF EXISTS bot_turns_model_latency ON bot_turns")
        for function in ("bot_session_count_turns", "bot_turn_count_in_session", "bot_turn_model_latency"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
