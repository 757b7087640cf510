"""Cheaper analytics upkeep and series: one trigger function per message event on PostgreSQL, the
customer's first-message update only when it changes something, and a per-slot total of closed
conversations.

- PostgreSQL ran up to four trigger functions per message insert (the slot change's append, then
  one per kind of sender), each an executor start; a customer's message ran an ``UPDATE`` of its
  conversation's facts that, once the first customer message is known (every message after the
  first), matched nothing but still set up the update (its indexes, its subquery). Now one function
  per event: it appends the message's slot changes in one ``INSERT`` and, for a customer's message,
  first looks (a plain indexed ``SELECT``) whether the conversation's first customer message is
  already at or before it, updating only when it is not. The look is safe against concurrent
  writers: the first customer message only ever moves earlier, so a later version of the row would
  also need no change. The replies' updates are kept as they were (a concurrent earlier customer
  message could make them needed after a look said no). Per row, not per statement: the ingest
  writes a message per statement, where a statement trigger's transition table costs more than it
  saves. SQLite compiles its triggers into the writing statement and keeps those of 0227.
- ``CLOSED_TOTAL``: conversations closed per slot, summed over their assignees (``CLOSED`` is kept
  per assignee, ~12 keys a slot for the agents' figures): the series reads one row a slot instead.
  A trigger on ``analytics_slot_changes`` appends it beside every ``CLOSED`` change (both
  databases), so the conversations' triggers are unchanged; existing counts and changes are summed
  into it here.

Revision ID: 0231
Revises: 0230
Create Date: 2026-12-07 14:10:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

from cxinbox.migrations import row_triggers

revision: str = "0231"
down_revision: str | tuple[str, ...] | None = "0230"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 0227's triggers of ``messages`` on PostgreSQL, replaced by one function per event
REPLACED = [
    ("analytics_message_inserted", "INSERT"),
    ("analytics_customer_wrote", "INSERT"),
    ("analytics_reply_sent", "INSERT"),
    ("analytics_agent_wrote", "INSERT"),
    ("analytics_message_deleted", "DELETE"),
    ("analytics_agent_message_deleted", "DELETE"),
]

SLOT = "floor(extract(epoch FROM {row}.ordered_at) / 900)::bigint"
DIRECTION = "CASE WHEN {row}.direction = 'INBOUND' THEN 'INBOUND' ELSE 'OUTBOUND' END"
AGENT = "{row}.sender_type = 'AGENT' AND {row}.sender_user_id IS NOT NULL"


def _changes(row: str, sign: str) -> tuple[str, str]:
    """The ``INSERT`` of the message's direction change and the one of it and the agent's change."""
    slot = SLOT.format(row=row)
    head = "INSERT INTO analytics_slot_changes (organization_id, metric, slot, key, count) VALUES "
    counted = f"({row}.organization_id, {DIRECTION.format(row=row)}, {slot}, '', {sign}1)"
    agent = f"({row}.organization_id, 'AGENT', {slot}, {row}.sender_user_id, {sign}1)"
    return head + counted, f"{head}{counted}, {agent}"


def _inserted() -> str:
    counted, with_agent = _changes("NEW", "")
    this = "conversation_id = NEW.conversation_id"
    answers = (
        "first_customer_at <= NEW.ordered_at AND (first_reply_at IS NULL OR first_reply_at > NEW.ordered_at)"
    )
    return f"""
    IF NEW.sender_type = 'CUSTOMER' THEN
        {counted};
        -- the customer's first message: the first reply is the first one at or after it
        IF NOT EXISTS (SELECT FROM conversation_facts WHERE {this}
                       AND first_customer_at <= NEW.ordered_at) THEN
            UPDATE conversation_facts SET first_customer_at = NEW.ordered_at, first_reply_at = (
                SELECT min(m.ordered_at) FROM messages m WHERE m.conversation_id = NEW.conversation_id
                AND m.sender_type IN ('AGENT', 'BOT') AND m.ordered_at >= NEW.ordered_at)
            WHERE {this} AND (first_customer_at IS NULL OR first_customer_at > NEW.ordered_at);
        END IF;
        RETURN NULL;
    END IF;
    IF {AGENT.format(row="NEW")} THEN
        {with_agent};
        UPDATE assignment_facts SET answered_at = NEW.ordered_at
        WHERE {this} AND user_id = NEW.sender_user_id AND assigned_at <= NEW.ordered_at
        AND (answered_at IS NULL OR answered_at > NEW.ordered_at);
    ELSE
        {counted};
    END IF;
    IF NEW.sender_type IN ('AGENT', 'BOT') THEN
        -- the reply is the conversation's first one after the customer's first message
        UPDATE conversation_facts SET
            first_reply_at = CASE WHEN {answers} THEN NEW.ordered_at ELSE first_reply_at END,
            bot_spoke = (bot_spoke OR NEW.sender_type = 'BOT')
        WHERE {this} AND (({answers}) OR (NEW.sender_type = 'BOT' AND NOT bot_spoke));
    END IF;
    RETURN NULL;"""


def _deleted() -> str:
    counted, with_agent = _changes("OLD", "-")
    return f"""
    IF {AGENT.format(row="OLD")} THEN
        {with_agent};
    ELSE
        {counted};
    END IF;
    RETURN NULL;"""


def _create_message_functions() -> None:
    for (name, event), body in (
        (REPLACED[0], _inserted()),
        (REPLACED[4], _deleted()),
    ):
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON messages FOR EACH ROW EXECUTE FUNCTION {name}()")


CLOSED_TOTAL: list[row_triggers.Trigger] = [
    (
        "analytics_closed_total",
        "analytics_slot_changes",
        "INSERT",
        "NEW.metric = 'CLOSED'",
        [
            "INSERT INTO analytics_slot_changes (organization_id, metric, slot, key, count) "
            "VALUES (NEW.organization_id, 'CLOSED_TOTAL', NEW.slot, '', NEW.count)"
        ],
    )
]


def _backfill_closed_total() -> None:
    op.execute(
        "INSERT INTO analytics_slot_counts (organization_id, metric, slot, key, count) "
        "SELECT organization_id, 'CLOSED_TOTAL', slot, '', sum(count) FROM analytics_slot_counts "
        "WHERE metric = 'CLOSED' GROUP BY organization_id, slot HAVING sum(count) <> 0"
    )
    op.execute(
        "INSERT INTO analytics_slot_changes (organization_id, metric, slot, key, count) "
        "SELECT organization_id, 'CLOSED_TOTAL', slot, '', count FROM analytics_slot_changes "
        "WHERE metric = 'CLOSED' ORDER BY id"
    )


def _revision_0227() -> ModuleType:
    """0227's module, whose ``messages`` triggers a downgrade puts back."""
    path = Path(__file__).with_name("0227_analytics_rollups.py")
    spec = importlib.util.spec_from_file_location("analytics_rollups_0227", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if row_triggers.postgresql():
        row_triggers.drop([(name, "messages", event, "", []) for name, event in REPLACED])
        _create_message_functions()
    _backfill_closed_total()
    row_triggers.create(CLOSED_TOTAL)


def downgrade() -> None:
    row_triggers.drop(CLOSED_TOTAL)
    for table in ("analytics_slot_counts", "analytics_slot_changes"):
        op.execute(f"DELETE FROM {table} WHERE metric = 'CLOSED_TOTAL'")
    if row_triggers.postgresql():
        row_triggers.drop([(name, "messages", event, "", []) for name, event in REPLACED])
        old = _revision_0227()
        row_triggers.create(old._message_triggers(old.Dialect(True)))
