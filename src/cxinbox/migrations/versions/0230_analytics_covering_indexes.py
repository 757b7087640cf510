"""Covering indexes on the analytics facts: a range's figures read the index alone.

The figures of a range read every fact row in it (exact medians cannot be pre-aggregated): the
conversations created in it (first responses, the counts, the breakdowns), those closed in it
(resolutions) and the assignments made in it. On PostgreSQL the range indexes now carry the columns
those statements read (``INCLUDE``), so a range is one contiguous stretch of the index instead of a
heap page per row; SQLite keeps the plain indexes (``postgresql_include`` does not apply to it).

Revision ID: 0230
Revises: 0229
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0230"
down_revision: str | tuple[str, ...] | None = "0229"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: what first responses and the counts read of the conversations created in a range, and what the
#: breakdowns by category, team and origin add
COUNTED = ["first_customer_at", "first_reply_at", "status", "bot_spoke", "left_bot", "handed_off"]
BREAKDOWNS = ["category", "team_id", "origin"]
#: (old index, new index, table, key columns, included columns)
COVERING = [
    (
        "ix_conversation_facts_org_created",
        "ix_conversation_facts_created_covering",
        "conversation_facts",
        ["organization_id", "created_at"],
        [*COUNTED, *BREAKDOWNS],
    ),
    (
        "ix_conversation_facts_org_closed",
        "ix_conversation_facts_closed_covering",
        "conversation_facts",
        ["organization_id", "closed_at"],
        ["created_at", "status"],
    ),
    (
        "ix_assignment_facts_org_assigned",
        "ix_assignment_facts_assigned_covering",
        "assignment_facts",
        ["organization_id", "assigned_at", "user_id"],
        ["answered_at"],
    ),
]


def upgrade() -> None:
    for old, new, table, columns, included in COVERING:
        op.drop_index(old, table_name=table)
        op.create_index(new, table, columns, postgresql_include=included)


def downgrade() -> None:
    for old, new, table, columns, _ in COVERING:
        op.drop_index(new, table_name=table)
        op.create_index(old, table, columns)
