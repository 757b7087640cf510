"""The bot's quality figures per organization and UTC day (``bot_metric_days``), kept by triggers on
``bot_sessions``, ``bot_turns`` and ``bot_feedback`` that append signed changes
(``bot_metric_day_changes``), folded by a periodic job; existing rows backfilled. The sessions'
page gets indexes in its order (newest first, by id on a tie), with and without the closure.

Revision ID: 0229
Revises: 0227
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

from cxinbox.migrations import row_triggers
from cxinbox.migrations.row_triggers import differs

revision: str = "0229"
down_revision: str | tuple[str, ...] | None = "0227"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_SECONDS = 86400
CLOSURE = "coalesce({row}.closure_type, 'OPEN')"
RATING = "CASE {row}.rating WHEN 1 THEN 'HELPFUL' ELSE 'NOT_HELPFUL' END"
RATED = "{row}.rating IN (0, 1)"
TIMED = "{row}.model_latency_ms IS NOT NULL"


def _day(column: str) -> str:
    return row_triggers.bucket(column, DAY_SECONDS)


def _moved(at: str) -> str:
    """The row changed organization or day."""
    organization = differs("OLD.organization_id", "NEW.organization_id")
    return f"{organization} OR {_day(f'OLD.{at}')} <> {_day(f'NEW.{at}')}"


@dataclass(frozen=True)
class Amount:
    """What a row adds to a metric (``{row}`` stands for the row), and the column whose change
    moves it (besides the row's organization and day)."""

    metric: str
    amount: str
    watched: str


@dataclass(frozen=True)
class Source:
    """One table's rows: each amount counted on the UTC day of ``at`` when ``when`` holds."""

    table: str
    at: str
    amounts: tuple[Amount, ...]
    when: str

    def selects(self, row: str, sign: str, moved: bool = False) -> str:
        """``SELECT organization, day, metric, amount`` of each amount of ``row``, signed; with
        ``moved`` (in an update), only of the amounts that the update moved."""
        parts = []
        for a in self.amounts:
            when = self.when.format(row=row)
            if moved:
                watched = differs(f"OLD.{a.watched}", f"NEW.{a.watched}")
                when += f" AND ({watched} OR {_moved(self.at)})"
            parts.append(
                f"SELECT {row}.organization_id AS organization_id, {_day(f'{row}.{self.at}')} AS day, "
                f"{a.metric.format(row=row)} AS metric, {sign}({a.amount.format(row=row)}) AS value "
                f"WHERE {when}"
            )
        return " UNION ALL ".join(parts)


SOURCES = (
    Source(
        "bot_sessions",
        "started_at",
        (Amount(CLOSURE, "1", "closure_type"), Amount("'TURNS'", "{row}.turns", "turns")),
        "TRUE",
    ),
    Source(
        "bot_turns",
        "created_at",
        (
            Amount("'LATENCY_MS'", "{row}.model_latency_ms", "model_latency_ms"),
            Amount("'LATENCY_TURNS'", "1", "model_latency_ms"),
        ),
        TIMED,
    ),
    Source("bot_feedback", "created_at", (Amount(RATING, "1", "rating"),), RATED),
)
APPEND = "INSERT INTO bot_metric_day_changes (organization_id, day, metric, value) "


def _triggers() -> list[tuple[str, str, str, str, list[str]]]:
    """(name, table, event, condition, statements): a row inserted adds its amounts, one deleted
    takes them away, one updated takes away the old amounts and adds the new ones of what moved."""
    triggers: list[tuple[str, str, str, str, list[str]]] = []
    for source in SOURCES:
        name = f"bot_metric_days_{source.table.removeprefix('bot_')}"
        changed = " OR ".join(differs(f"OLD.{a.watched}", f"NEW.{a.watched}") for a in source.amounts)
        update = [APPEND + source.selects(row, sign, moved=True) for row, sign in (("OLD", "-"), ("NEW", ""))]
        triggers += [
            (f"{name}_inserted", source.table, "INSERT", "", [APPEND + source.selects("NEW", "")]),
            (f"{name}_updated", source.table, "UPDATE", f"{changed} OR {_moved(source.at)}", update),
            (f"{name}_deleted", source.table, "DELETE", "", [APPEND + source.selects("OLD", "-")]),
        ]
    return triggers


def _create_triggers() -> None:
    row_triggers.create(_triggers())


def _drop_triggers() -> None:
    row_triggers.drop(_triggers())


def _backfill() -> None:
    """The days of the rows written before the triggers."""
    rows = " UNION ALL ".join(
        source.selects(source.table, "").replace(" WHERE ", f" FROM {source.table} WHERE ")
        for source in SOURCES
    )
    op.execute(
        "INSERT INTO bot_metric_days (organization_id, day, metric, value) "
        f"SELECT organization_id, day, metric, sum(value) FROM ({rows}) AS amounts "
        "GROUP BY organization_id, day, metric HAVING sum(value) <> 0"
    )


def upgrade() -> None:
    op.create_table(
        "bot_metric_days",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_metric_days_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "day", "metric", name=op.f("pk_bot_metric_days")),
    )
    op.create_table(
        "bot_metric_day_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_metric_day_changes")),
    )
    _backfill()
    op.create_index(
        "ix_bot_metric_days_covering", "bot_metric_days", ["organization_id", "day", "metric", "value"]
    )
    op.create_index("ix_bot_metric_day_changes_org_day", "bot_metric_day_changes", ["organization_id", "day"])
    op.drop_index("ix_bot_sessions_org_started", table_name="bot_sessions")
    op.create_index("ix_bot_sessions_org_started", "bot_sessions", ["organization_id", "started_at", "id"])
    op.create_index(
        "ix_bot_sessions_org_closure_started",
        "bot_sessions",
        ["organization_id", "closure_type", "started_at", "id"],
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index("ix_bot_sessions_org_closure_started", table_name="bot_sessions")
    op.drop_index("ix_bot_sessions_org_started", table_name="bot_sessions")
    op.create_index("ix_bot_sessions_org_started", "bot_sessions", ["organization_id", "started_at"])
    op.drop_table("bot_metric_day_changes")
    op.drop_table("bot_metric_days")
