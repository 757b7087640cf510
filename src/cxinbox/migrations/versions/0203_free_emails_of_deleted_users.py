"""Free the email addresses of soft-deleted users.

A deleted user's address becomes ``deleted+<user id>@deleted.invalid`` (as ``remove_user`` now does),
so the person can be invited or created again as a new user. The original address stays in the
``user.deleted`` audit entry that every deletion through the API writes; a deleted user without one
(deleted behind the API's back) gets one first, so no address is lost. The downgrade puts back the
addresses that no account has taken since.

Revision ID: 0203
Revises: 0202
Create Date: 2026-11-26 16:00:00
"""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0203"
down_revision: str | tuple[str, ...] | None = "0202"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RELEASED_DOMAIN = "@deleted.invalid"

users = sa.table(
    "users",
    sa.column("id", sa.String),
    sa.column("organization_id", sa.String),
    sa.column("email", sa.String),
    sa.column("deleted_at", sa.DateTime(timezone=True)),
)
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.String),
    sa.column("organization_id", sa.String),
    sa.column("actor_role", sa.String),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.String),
    sa.column("details", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
deletion_entries = sa.select(audit_log).where(
    audit_log.c.action == "user.deleted", audit_log.c.target_type == "user"
)
deleted_users = users.c.deleted_at.is_not(None) & users.c.email.not_like(f"%{RELEASED_DOMAIN}")


def upgrade() -> None:
    connection = op.get_bind()
    audited = deletion_entries.with_only_columns(audit_log.c.id).where(audit_log.c.target_id == users.c.id)
    unaudited = connection.execute(sa.select(users).where(deleted_users, ~audited.exists())).all()
    if unaudited:
        op.bulk_insert(audit_log, [_deletion_entry(row) for row in unaudited])
    released = sa.literal("deleted+") + users.c.id + sa.literal(RELEASED_DOMAIN)
    connection.execute(sa.update(users).where(deleted_users).values(email=released))


def _deletion_entry(user: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "organization_id": user.organization_id,
        "actor_role": "SYSTEM",
        "action": "user.deleted",
        "target_type": "user",
        "target_id": user.id,
        "details": {"email": user.email},
        "created_at": user.deleted_at,
    }


def downgrade() -> None:
    connection = op.get_bind()
    released = connection.execute(
        sa.select(users.c.id).where(users.c.email.like(f"deleted+%{RELEASED_DOMAIN}"))
    ).scalars()
    entries = connection.execute(
        deletion_entries.where(audit_log.c.target_id.in_(list(released))).order_by(audit_log.c.created_at)
    ).all()
    original = {entry.target_id: entry.details.get("email") for entry in entries}  # the newest wins
    for user_id, email in original.items():
        taken = connection.execute(sa.select(users.c.id).where(users.c.email == email)).first()
        if email and taken is None:
            connection.execute(sa.update(users).where(users.c.id == user_id).values(email=email))
