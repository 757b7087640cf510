"""Analytics rollups: per-conversation and per-assignment facts and 15-minute slot counts, kept by
triggers on ``conversations``, ``messages`` and ``conversation_timeline``; existing rows backfilled.

Revision ID: 0227
Revises: 0225
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

import cxinbox.models.base
from cxinbox.migrations import row_triggers

revision: str = "0227"
down_revision: str | tuple[str, ...] | None = "0225"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT_SECONDS = 900
REPLIERS = "('AGENT', 'BOT')"
FACT_COLUMNS = "created_at, closed_at, status, category, team_id, origin"


@dataclass(frozen=True)
class Dialect:
    postgresql: bool

    def slot(self, column: str) -> str:
        return row_triggers.bucket(column, SLOT_SECONDS, "bigint")

    def differs(self, a: str, b: str) -> str:
        return row_triggers.differs(a, b)

    def change(self, metric: str, at: str, key: str, sign: str, organization: str, when: str = "") -> str:
        """Append ``sign``1 to ``metric`` in the slot of ``at`` (only ``when`` it holds)."""
        return (
            "INSERT INTO analytics_slot_changes (organization_id, metric, slot, key, count) "
            f"SELECT {organization}, {metric}, {self.slot(at)}, {key}, {sign}1"
            + (f" WHERE {when}" if when else "")
        )


def _closed(row: str) -> str:
    return f"{row}.status = 'CLOSED' AND {row}.closed_at IS NOT NULL"


def _conversation_triggers(d: Dialect) -> list[tuple[str, str, str, str, list[str]]]:
    """(name, table, event, condition, statements) of every trigger."""
    values = ", ".join(f"NEW.{c}" for c in FACT_COLUMNS.split(", "))
    closed_moved = " OR ".join(
        d.differs(f"OLD.{c}", f"NEW.{c}") for c in ("status", "closed_at", "assigned_to_id")
    )
    fact_moved = " OR ".join(d.differs(f"OLD.{c}", f"NEW.{c}") for c in FACT_COLUMNS.split(", "))
    created_moved = d.differs("OLD.created_at", "NEW.created_at")

    def closed(row: str, sign: str, when: str = "") -> str:
        return d.change(
            "'CLOSED'",
            f"{row}.closed_at",
            f"coalesce({row}.assigned_to_id, '')",
            sign,
            f"{row}.organization_id",
            _closed(row) + (f" AND ({when})" if when else ""),
        )

    def new(row: str, sign: str, when: str = "") -> str:
        return d.change("'NEW'", f"{row}.created_at", "''", sign, f"{row}.organization_id", when)

    return [
        (
            "analytics_conversation_inserted",
            "conversations",
            "INSERT",
            "",
            [
                f"INSERT INTO conversation_facts (conversation_id, organization_id, {FACT_COLUMNS}, "
                f"bot_spoke, left_bot, handed_off) VALUES (NEW.id, NEW.organization_id, {values}, "
                "false, false, false)",
                new("NEW", ""),
                closed("NEW", ""),
            ],
        ),
        (
            "analytics_conversation_updated",
            "conversations",
            "UPDATE",
            f"{fact_moved} OR {closed_moved}",
            [
                f"UPDATE conversation_facts SET ({FACT_COLUMNS}) = ({values}) "
                f"WHERE conversation_id = NEW.id AND ({fact_moved})",
                new("OLD", "-", created_moved),
                new("NEW", "", created_moved),
                closed("OLD", "-", closed_moved),
                closed("NEW", "", closed_moved),
            ],
        ),
        (
            "analytics_conversation_deleted",
            "conversations",
            "DELETE",
            "",
            [new("OLD", "-"), closed("OLD", "-")],
        ),
    ]


def _message_triggers(d: Dialect) -> list[tuple[str, str, str, str, list[str]]]:
    """Each kind of sender has its trigger, so that a message runs only the statements that can
    change something for it (a customer's: an append and one update)."""

    def counted(row: str, sign: str) -> str:
        return d.change(
            f"CASE WHEN {row}.direction = 'INBOUND' THEN 'INBOUND' ELSE 'OUTBOUND' END",
            f"{row}.ordered_at",
            "''",
            sign,
            f"{row}.organization_id",
        )

    def agents(row: str, sign: str) -> str:
        return d.change(
            "'AGENT'", f"{row}.ordered_at", f"{row}.sender_user_id", sign, f"{row}.organization_id"
        )

    this = "conversation_id = NEW.conversation_id"
    agent = "NEW.sender_type = 'AGENT' AND NEW.sender_user_id IS NOT NULL"
    # the reply is the conversation's first one after the customer's first message
    answers = (
        "first_customer_at <= NEW.ordered_at AND (first_reply_at IS NULL OR first_reply_at > NEW.ordered_at)"
    )
    return [
        ("analytics_message_inserted", "messages", "INSERT", "", [counted("NEW", "")]),
        (
            "analytics_customer_wrote",
            "messages",
            "INSERT",
            "NEW.sender_type = 'CUSTOMER'",
            # the customer's first message: the first reply is the first one at or after it
            [
                "UPDATE conversation_facts SET first_customer_at = NEW.ordered_at, first_reply_at = ("
                "SELECT min(m.ordered_at) FROM messages m WHERE m.conversation_id = NEW.conversation_id "
                f"AND m.sender_type IN {REPLIERS} AND m.ordered_at >= NEW.ordered_at) "
                f"WHERE {this} AND (first_customer_at IS NULL OR first_customer_at > NEW.ordered_at)"
            ],
        ),
        (
            "analytics_reply_sent",
            "messages",
            "INSERT",
            f"NEW.sender_type IN {REPLIERS}",
            [
                "UPDATE conversation_facts SET "
                f"first_reply_at = CASE WHEN {answers} THEN NEW.ordered_at ELSE first_reply_at END, "
                "bot_spoke = (bot_spoke OR NEW.sender_type = 'BOT') "
                f"WHERE {this} AND (({answers}) OR (NEW.sender_type = 'BOT' AND NOT bot_spoke))"
            ],
        ),
        (
            "analytics_agent_wrote",
            "messages",
            "INSERT",
            agent,
            [
                agents("NEW", ""),
                "UPDATE assignment_facts SET answered_at = NEW.ordered_at "
                f"WHERE {this} AND user_id = NEW.sender_user_id AND assigned_at <= NEW.ordered_at "
                "AND (answered_at IS NULL OR answered_at > NEW.ordered_at)",
            ],
        ),
        ("analytics_message_deleted", "messages", "DELETE", "", [counted("OLD", "-")]),
        (
            "analytics_agent_message_deleted",
            "messages",
            "DELETE",
            agent.replace("NEW.", "OLD."),
            [agents("OLD", "-")],
        ),
    ]


def _timeline_triggers() -> list[tuple[str, str, str, str, list[str]]]:
    return [
        (
            "analytics_assignment_inserted",
            "conversation_timeline",
            "INSERT",
            "NEW.kind = 'ASSIGNEE' AND NEW.to_value IS NOT NULL",
            [
                "INSERT INTO assignment_facts (timeline_id, organization_id, conversation_id, user_id, "
                "assigned_at, answered_at) VALUES (NEW.id, NEW.organization_id, NEW.conversation_id, "
                "NEW.to_value, NEW.created_at, (SELECT min(m.ordered_at) FROM messages m "
                "WHERE m.conversation_id = NEW.conversation_id AND m.sender_type = 'AGENT' "
                "AND m.sender_user_id = NEW.to_value AND m.ordered_at >= NEW.created_at))"
            ],
        ),
        (
            "analytics_bot_left",
            "conversation_timeline",
            "INSERT",
            "NEW.kind = 'STATUS' AND NEW.from_value = 'BOT_HANDLING'",
            [
                "UPDATE conversation_facts SET left_bot = true, "
                "handed_off = (handed_off OR NEW.to_value IN ('HUMAN_HANDLING', 'OPEN')) "
                "WHERE conversation_id = NEW.conversation_id"
            ],
        ),
    ]


def _triggers(d: Dialect) -> list[tuple[str, str, str, str, list[str]]]:
    return [*_conversation_triggers(d), *_message_triggers(d), *_timeline_triggers()]


def _create_triggers() -> None:
    row_triggers.create(_triggers(Dialect(row_triggers.postgresql())))


def _drop_triggers() -> None:
    row_triggers.drop(_triggers(Dialect(row_triggers.postgresql())))


def _backfill() -> None:
    """The facts and counts of the rows written before the triggers."""
    d = Dialect(op.get_bind().dialect.name == "postgresql")
    first_customer = (
        "(SELECT min(m.ordered_at) FROM messages m "
        "WHERE m.conversation_id = c.id AND m.sender_type = 'CUSTOMER')"
    )
    op.execute(
        f"""
        INSERT INTO conversation_facts (conversation_id, organization_id, {FACT_COLUMNS},
            first_customer_at, first_reply_at, bot_spoke, left_bot, handed_off)
        SELECT f.id, f.organization_id, {FACT_COLUMNS}, f.asked,
            (SELECT min(m.ordered_at) FROM messages m WHERE m.conversation_id = f.id
             AND m.sender_type IN {REPLIERS} AND m.ordered_at >= f.asked),
            EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = f.id AND m.sender_type = 'BOT'),
            EXISTS (SELECT 1 FROM conversation_timeline t WHERE t.conversation_id = f.id
                    AND t.kind = 'STATUS' AND t.from_value = 'BOT_HANDLING'),
            EXISTS (SELECT 1 FROM conversation_timeline t WHERE t.conversation_id = f.id
                    AND t.kind = 'STATUS' AND t.from_value = 'BOT_HANDLING'
                    AND t.to_value IN ('HUMAN_HANDLING', 'OPEN'))
        FROM (SELECT c.*, {first_customer} AS asked FROM conversations c) f
        """
    )
    op.execute(
        """
        INSERT INTO assignment_facts (timeline_id, organization_id, conversation_id, user_id, assigned_at,
            answered_at)
        SELECT t.id, t.organization_id, t.conversation_id, t.to_value, t.created_at,
            (SELECT min(m.ordered_at) FROM messages m WHERE m.conversation_id = t.conversation_id
             AND m.sender_type = 'AGENT' AND m.sender_user_id = t.to_value AND m.ordered_at >= t.created_at)
        FROM conversation_timeline t WHERE t.kind = 'ASSIGNEE' AND t.to_value IS NOT NULL
        """
    )
    counted = [
        ("'NEW'", "created_at", "''", "conversations", "TRUE"),
        ("'CLOSED'", "closed_at", "coalesce(assigned_to_id, '')", "conversations", _closed("conversations")),
        (
            "CASE WHEN direction = 'INBOUND' THEN 'INBOUND' ELSE 'OUTBOUND' END",
            "ordered_at",
            "''",
            "messages",
            "TRUE",
        ),
        (
            "'AGENT'",
            "ordered_at",
            "sender_user_id",
            "messages",
            "sender_type = 'AGENT' AND sender_user_id IS NOT NULL",
        ),
    ]
    for metric, at, key, table, where in counted:
        op.execute(
            f"INSERT INTO analytics_slot_counts (organization_id, metric, slot, key, count) "
            f"SELECT organization_id, {metric}, {d.slot(at)}, {key}, count(*) FROM {table} WHERE {where} "
            "GROUP BY 1, 2, 3, 4"
        )


def upgrade() -> None:
    op.create_table(
        "conversation_facts",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=36), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("first_customer_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("bot_spoke", sa.Boolean(), nullable=False),
        sa.Column("left_bot", sa.Boolean(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_facts_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_facts")),
    )
    op.create_table(
        "assignment_facts",
        sa.Column("timeline_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", cxinbox.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["timeline_id"],
            ["conversation_timeline.id"],
            name=op.f("fk_assignment_facts_timeline_id_conversation_timeline"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("timeline_id", name=op.f("pk_assignment_facts")),
    )
    op.create_table(
        "analytics_slot_counts",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_slot_counts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "metric", "slot", "key", name=op.f("pk_analytics_slot_counts")
        ),
    )
    op.create_table(
        "analytics_slot_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_slot_changes")),
    )
    _backfill()
    op.create_index(
        "ix_conversation_facts_org_created", "conversation_facts", ["organization_id", "created_at"]
    )
    op.create_index(
        "ix_conversation_facts_org_closed", "conversation_facts", ["organization_id", "closed_at"]
    )
    op.create_index(
        "ix_assignment_facts_org_assigned", "assignment_facts", ["organization_id", "assigned_at", "user_id"]
    )
    op.create_index(
        "ix_assignment_facts_conversation_user", "assignment_facts", ["conversation_id", "user_id"]
    )
    op.create_index(
        "ix_analytics_slot_counts_covering",
        "analytics_slot_counts",
        ["organization_id", "metric", "slot", "key", "count"],
    )
    op.create_index(
        "ix_analytics_slot_changes_org_metric_slot",
        "analytics_slot_changes",
        ["organization_id", "metric", "slot"],
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("analytics_slot_changes")
    op.drop_table("analytics_slot_counts")
    op.drop_table("assignment_facts")
    op.drop_table("conversation_facts")
