"""The webhook acknowledgement path, kept short: verify, store the raw body, answer.

Bodies received at the same moment are stored together (group commit): one writer task inserts
every body waiting since its last transaction in one INSERT and one commit, then each request gets
its event id and answers 200. A request is only answered once its body is committed, so nothing
acknowledged is lost; processing follows in the drain job (``tasks.drain_webhooks``). Its
transactions are the requests' (foreground): on SQLite they take the write gate before the jobs
queued for it, the drain's and a campaign's included (``core.db.WriteGate``).

A signature proves who sent which parts of a body, no more (``signers``): each number and WhatsApp
Business Account a body names is signed by its own app's secret (the account's own app secret, else
the platform's ``META_APP_SECRET``), and the body is stored with the numbers whose secret signed it
(its signature scope); processing touches no other number.

The signers of each number and account are cached for a short while, in bounded caches: one for
those that exist, a smaller one for those that do not (so a stream of made-up ids evicts no real
one). A body that every cached signer verifies is accepted at once; anything else is decided on
fresh data from the database.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from cxinbox.core.clock import utcnow
from cxinbox.core.db import WritePriority, write_priority
from cxinbox.core.ids import new_id
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.repository import live_accounts_by_number, live_accounts_by_waba
from cxinbox.whatsapp.signers import Signers, SigningKeys, signers_of
from cxinbox.whatsapp.tasks import request_drain

#: bodies stored in one transaction at most
MAX_BATCH = 500
SECRETS_TTL_SECONDS = 30.0
#: cached signers of numbers and accounts that exist (bounded by what is connected, capped anyway)
KNOWN_CACHE_SIZE = 10_000
#: cached answers "no such number or account" (anyone can make these up: a small share of memory)
UNKNOWN_CACHE_SIZE = 2_000


class _Expiring:
    """A least-recently-used map of at most ``size`` entries that each live ``ttl`` seconds."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, Signers]] = OrderedDict()

    def get(self, key: str) -> Signers | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: Signers) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries


@dataclass
class _Pending:
    row: dict[str, Any]
    done: asyncio.Future[str]


class WebhookIntake:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self.known = _Expiring(KNOWN_CACHE_SIZE, SECRETS_TTL_SECONDS)
        self.unknown = _Expiring(UNKNOWN_CACHE_SIZE, SECRETS_TTL_SECONDS)
        self._reads: dict[tuple[str, ...], asyncio.Future[dict[str, Signers]]] = {}

    # --- signers --------------------------------------------------------------------------------

    def cached_signers(self, keys: SigningKeys) -> dict[str, Signers] | None:
        """The signers of every key of ``keys`` when all are cached, else None."""
        found: dict[str, Signers] = {}
        for key in keys.cache_keys:
            signers = self.known.get(key)
            if signers is None:
                signers = self.unknown.get(key)
            if signers is None:
                return None
            found[key] = signers
        return found

    async def current_signers(self, keys: SigningKeys) -> dict[str, Signers]:
        """The signers of every key, read from the database and remembered for a short while; the
        requests that need the same keys at the same moment (all those in flight when the cache
        expires) share one read."""
        flight = tuple(keys.cache_keys)
        read = self._reads.get(flight)
        if read is None:
            read = self._reads[flight] = asyncio.ensure_future(self._read_signers(keys))
            read.add_done_callback(lambda _: self._reads.pop(flight, None))
        return await asyncio.shield(read)

    async def _read_signers(self, keys: SigningKeys) -> dict[str, Signers]:
        # a read session of the primary's database: on SQLite it reads outside the write gate, so
        # an acknowledgement whose signers are not cached does not queue for it twice
        async with self.runtime.read_session(current=True) as session:
            by_number = await live_accounts_by_number(session, keys.numbers)
            by_waba = await live_accounts_by_waba(session, keys.wabas)
        found = signers_of(
            keys,
            by_number,
            by_waba,
            platform=self.runtime.settings.meta_app_secret or None,
            decrypt=self.runtime.secrets.decrypt,
        )
        for key, (exists, signers) in found.items():
            (self.known if exists else self.unknown).put(key, signers)
        return {key: signers for key, (_, signers) in found.items()}

    # --- group commit ---------------------------------------------------------------------------

    async def store(self, body: bytes, phone_number_id: str | None, scope: list[str]) -> str:
        """Store ``body`` durably (with the bodies arriving meanwhile), with the numbers its signature
        covers; answers the event id."""
        row = {
            "id": new_id(),
            "body": body,
            "phone_number_id": phone_number_id,
            "signature_scope": scope,
            "received_at": utcnow(),
        }
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        with write_priority(WritePriority.FOREGROUND):  # whoever started the writer, requests wait
            await self._write_pending()

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                async with self.runtime.unit_of_work() as session:
                    await session.execute(
                        insert(WebhookEvent),
                        [{**p.row, "attempts": 0, "simulated": False} for p in batch],
                    )
            except Exception as exc:
                for p in batch:
                    if not p.done.done():
                        p.done.set_exception(exc)
                continue
            for p in batch:
                if not p.done.done():
                    p.done.set_result(p.row["id"])
            await request_drain(self.runtime)


_INTAKES: weakref.WeakKeyDictionary[Runtime, WebhookIntake] = weakref.WeakKeyDictionary()


def intake_for(runtime: Runtime) -> WebhookIntake:
    intake = _INTAKES.get(runtime)
    if intake is None:
        intake = _INTAKES[runtime] = WebhookIntake(runtime)
    return intake
