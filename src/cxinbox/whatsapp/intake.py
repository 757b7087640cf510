"""The webhook acknowledgement path, kept short: verify, store the raw body, answer.

Bodies received at the same moment are stored together (group commit): one writer task inserts
every body waiting since its last transaction in one INSERT and one commit, then each request gets
its event id and answers 200. A request is only answered once its body is committed, so nothing
acknowledged is lost; processing follows in the drain job (``tasks.drain_webhooks``).

Signature secrets are cached per number for a short while: a cached secret that verifies the body
is used at once; anything else is decided on fresh data from the database.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from cxinbox.core.clock import utcnow
from cxinbox.core.ids import new_id
from cxinbox.models.whatsapp import WebhookEvent
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.repository import live_accounts_by_number, live_accounts_by_waba
from cxinbox.whatsapp.tasks import request_drain

#: bodies stored in one transaction at most
MAX_BATCH = 500
SECRETS_TTL_SECONDS = 30.0


WABA_KEY = "waba:"


@dataclass(frozen=True)
class SigningKeys:
    """What names the signer of a body: its phone numbers, or (events about a whole account name no
    number) its WhatsApp Business Account ids."""

    numbers: list[str]
    wabas: list[str]

    @property
    def cache_keys(self) -> list[str]:
        return self.numbers or [WABA_KEY + waba for waba in self.wabas]


def signing_keys(numbers: list[str], wabas: list[str]) -> SigningKeys:
    return SigningKeys(numbers, [] if numbers else wabas)


@dataclass
class _Pending:
    row: dict[str, Any]
    done: asyncio.Future[str]


class WebhookIntake:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._secrets: dict[str, tuple[float, list[str]]] = {}
        self._reads: dict[tuple[str, ...], asyncio.Future[list[str]]] = {}

    # --- signature secrets ----------------------------------------------------------------------

    def cached_secrets(self, keys: SigningKeys) -> list[str]:
        now = time.monotonic()
        found: list[str] = []
        for key in keys.cache_keys:
            entry = self._secrets.get(key)
            if entry and entry[0] > now:
                found += entry[1]
        return found

    async def current_secrets(self, keys: SigningKeys) -> list[str]:
        """The secrets that may sign a body: the own app secrets of the accounts it names, else the
        platform's. Read from the database, and remembered for a short while; the requests that
        need the same keys at the same moment (all those in flight when the cache expires) share
        one read."""
        flight = tuple(keys.cache_keys)
        read = self._reads.get(flight)
        if read is None:
            read = self._reads[flight] = asyncio.ensure_future(self._read_secrets(keys))
            read.add_done_callback(lambda _: self._reads.pop(flight, None))
        return await asyncio.shield(read)

    async def _read_secrets(self, keys: SigningKeys) -> list[str]:
        async with self.runtime.sessionmaker() as session:
            if keys.numbers:
                by_number = await live_accounts_by_number(session, keys.numbers)
                accounts = {n: [a] for n, a in by_number.items()}
            else:
                accounts = defaultdict(list)
                for account in await live_accounts_by_waba(session, keys.wabas):
                    accounts[WABA_KEY + account.waba_id].append(account)
            encrypted = {
                k: [a.app_secret_encrypted for a in accs if a.app_secret_encrypted]
                for k, accs in accounts.items()
            }
        own = {
            k: [self.runtime.secrets.decrypt(s) for s in values] for k, values in encrypted.items() if values
        }
        platform = [self.runtime.settings.meta_app_secret] if self.runtime.settings.meta_app_secret else []
        expires = time.monotonic() + SECRETS_TTL_SECONDS
        for key in keys.cache_keys:  # what no account signs itself is signed by the platform's app
            self._secrets[key] = (expires, own.get(key, platform))
        return [s for values in own.values() for s in values] or platform

    # --- group commit ---------------------------------------------------------------------------

    async def store(self, body: bytes, phone_number_id: str | None) -> str:
        """Store ``body`` durably (with the bodies arriving meanwhile); answers the event id."""
        row = {"id": new_id(), "body": body, "phone_number_id": phone_number_id, "received_at": utcnow()}
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
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
