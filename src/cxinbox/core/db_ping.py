"""Checking a pooled PostgreSQL connection before use only when it has been idle a while.

``pool_pre_ping`` costs a round trip at every checkout: a campaign's worker checks out a connection
for each slice's claim, its recording and each step, and the ping was 3–5 % of its CPU. A
connection given back less than ``IDLE_PING_SECONDS`` ago was working then; if the server went away
since, the statement fails as a disconnect, SQLAlchemy invalidates the whole pool (every connection
older than the failure is replaced at its next checkout) and the job or request fails once, as any
transaction cut by a restart does. One idle longer (the server restarted overnight, a firewall
dropped it) is pinged first and replaced at once if it is dead, as with ``pool_pre_ping``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

#: a connection given back more recently than this is used without a ping
IDLE_PING_SECONDS = 10.0
_RETURNED_AT = "cxinbox_returned_at"


def ping_when_idle(engine: AsyncEngine) -> None:
    pool_events = engine.sync_engine

    @event.listens_for(pool_events, "connect")
    @event.listens_for(pool_events, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(pool_events, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED_AT, 0.0) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # the pool drops this connection and checks out another (a new one if need be)
            raise DisconnectionError("the pooled connection is gone") from exc
