"""Credentials already checked in this process: a request with the same access token or API key skips
the database read of its user (or key) and organization while nothing that decides the answer changed.

Correctness rests on a **generation**: one counter per process, raised after every commit (in this
process, through any session, the ORM's unit of work or a bulk ``UPDATE``/``DELETE``) that changes
what a check reads: a user's ``is_active``, ``deleted_at``, ``role`` or ``organization_id``, an
organization's ``status``, an API key's ``is_active``, ``expires_at``, ``scopes``,
``organization_id`` or ``key_hash``, or deletes one of those rows. An entry remembers the generation
read *before* its check, so a check that raced a change is discarded, and every entry goes stale at
the first such commit: a user disabled, a role changed, a key revoked, an organization suspended is
refused on the next request. A user's presence, last sign-in, name, or a key's use count change
nothing here.

What another process commits (a second API process, a worker, a shell) is seen within
``ttl_seconds`` (``CXINBOX_AUTH_CACHE_SECONDS``; 0 turns the cache off); an API key's use is also
counted on every request with ``WHERE is_active``, so a key deleted or deactivated anywhere is
refused on its next use. A token past its ``exp`` (or a key past ``expires_at``) is never served
from here. Refusals are not kept: a refused credential is checked again each time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from cxinbox.auth.principal import Principal
from cxinbox.core.clock import utcnow
from cxinbox.models.identity import ApiKey, Organization, User

#: per table, the columns whose change can turn an accepted credential into a refused one (or change
#: the principal it gives); ``None``: any change of the row counts
_DECIDING: dict[str, frozenset[str]] = {
    User.__tablename__: frozenset({"is_active", "deleted_at", "role", "organization_id"}),
    Organization.__tablename__: frozenset({"status"}),
    ApiKey.__tablename__: frozenset({"is_active", "expires_at", "scopes", "organization_id", "key_hash"}),
}
_MODELS = (User, Organization, ApiKey)
_CHANGED = "cxinbox.auth.changed"


class _Generation:
    value = 0


def generation() -> int:
    """This process's credential generation (raised by every committed change of what a check reads)."""
    return _Generation.value


def credentials_changed() -> None:
    """Make every remembered check in this process stale."""
    _Generation.value += 1


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    generation: int
    stored_at: float
    expires_at: datetime | None


class VerifiedCredentials:
    """Remembered checks by credential (a token, or an API key's hash), at most ``max_entries``."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def get(self, key: Hashable) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if (
            entry.generation != _Generation.value
            or time.monotonic() - entry.stored_at >= self.ttl_seconds
            or (entry.expires_at is not None and entry.expires_at <= utcnow())
        ):
            del self._entries[key]
            return None
        return entry.principal

    def put(self, key: Hashable, principal: Principal, checked_at: int, expires_at: datetime | None) -> None:
        """Remember ``principal`` for ``key``, checked at generation ``checked_at`` (read before the
        check began: a change committed meanwhile makes the entry stale at once)."""
        if self.ttl_seconds <= 0 or checked_at != _Generation.value:
            return
        self._entries[key] = _Entry(principal, checked_at, time.monotonic(), expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


# ---- what raises the generation ------------------------------------------------------------------


def _deciding_change(obj: Any) -> bool:
    columns = _DECIDING[obj.__table__.name]
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(_CHANGED):
        return
    for obj in session.deleted:
        if isinstance(obj, _MODELS):
            session.info[_CHANGED] = True
            return
    for obj in session.dirty:
        if isinstance(obj, _MODELS) and _deciding_change(obj):
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.session.info.get(_CHANGED):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None:
        state.session.info[_CHANGED] = True  # a statement whose target is not plain: assume it matters
        return
    columns = _DECIDING.get(name)
    if columns is None:
        return
    if state.is_delete or not columns.isdisjoint(_set_columns(state.statement)):
        state.session.info[_CHANGED] = True


def _set_columns(statement: Any) -> set[str]:
    values = getattr(statement, "_values", None) or {}
    names = {
        getattr(column, "key", None) or getattr(column, "name", None) or str(column) for column in values
    }
    for mapping in getattr(statement, "_multi_values", ()) or ():
        for row in mapping:
            names |= {str(getattr(column, "key", column)) for column in row}
    if not names:
        return set(_ALL_DECIDING)  # values given at execution time: assume any column
    return names


_ALL_DECIDING = frozenset().union(*_DECIDING.values())


@event.listens_for(Session, "after_commit")
def _raise_after_commit(session: Session) -> None:
    # a savepoint released is no commit: the change becomes visible with the outermost transaction's
    if not session.in_nested_transaction() and session.info.pop(_CHANGED, False):
        credentials_changed()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the outermost transaction: nothing of it was committed
        session.info.pop(_CHANGED, None)
