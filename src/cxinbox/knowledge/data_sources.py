"""Inbox data sources: lookups on the organization's connections, shown as labelled fields beside a
conversation (``/inbox-data-sources/data/{conversationId}``).

Each is a request template on one connection (its base URL and credentials) filled with the contact's
number, sent through the tools' engine (the outbound guard: private addresses refused unless
``CXINBOX_ALLOW_PRIVATE_URLS``, 1 MB answers, 3 redirects on the same origin, credentials redacted),
and read back at each field's dot path. Numbers are read as the integration reads them: 10 digits or
a full number, a bare 10 digits taking the country code ``DEFAULT_COUNTRY_CODE``.

Answers (OK and NOT_FOUND, never ERROR) are kept for the source's ``cacheTtlSeconds`` (default 300)
in ``runtime.cache`` (Redis when configured, else the process); editing the source or its connection
starts afresh, and ``force`` skips the cache. A data source goes with its connection (the foreign key
cascades). Changes are audited.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.contacts.repository import ContactRepository
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.clock import utcnow
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.tenancy import TenantContext
from cxinbox.knowledge.data_source_schemas import (
    DataSourceIn,
    DataSourceOut,
    DataSourceTest,
    FieldValue,
    SourceData,
    SourceTestOut,
    Status,
)
from cxinbox.knowledge.repository import DataSourceRepository
from cxinbox.models.knowledge_media import InboxDataSource
from cxinbox.models.tools import Connection
from cxinbox.runtime import Runtime
from cxinbox.tools import engine, paths, phones, templating
from cxinbox.tools.endpoints import Endpoint, endpoint_of
from cxinbox.tools.repository import ConnectionRepository
from cxinbox.tools.runner import trimmed

VARIABLES = ("phone", "phone10", "phoneE164", "waId", "contact.name")
DEFAULT_COUNTRY_CODE = "52"
#: a field's value longer than this (as text) is cut
MAX_VALUE_CHARS = 1000


async def list_sources(session: AsyncSession, principal: Principal) -> Sequence[InboxDataSource]:
    return await DataSourceRepository(session, principal.tenant).listed()


async def create(session: AsyncSession, editor: Actor, body: DataSourceIn) -> InboxDataSource:
    source = InboxDataSource()
    await _apply(session, editor, source, body)
    DataSourceRepository(session, editor.principal.tenant).add(source)
    await session.flush()
    _audit(session, editor, "inbox_data_source.created", source)
    return source


async def update(session: AsyncSession, editor: Actor, source_id: str, body: DataSourceIn) -> InboxDataSource:
    source = await DataSourceRepository(session, editor.principal.tenant).get_or_404(source_id)
    await _apply(session, editor, source, body)
    source.updated_at = utcnow()  # a new cache generation even when nothing else changed
    await session.flush()
    _audit(session, editor, "inbox_data_source.updated", source)
    return source


async def delete(session: AsyncSession, editor: Actor, source_id: str) -> None:
    source = await DataSourceRepository(session, editor.principal.tenant).get_or_404(source_id)
    await session.delete(source)
    await session.flush()
    _audit(session, editor, "inbox_data_source.deleted", source)


async def test(
    session: AsyncSession, runtime: Runtime, editor: Actor, source_id: str, body: DataSourceTest
) -> SourceTestOut:
    """Run the source for a number, whatever its cache and ``isActive``; the remote's failure is the
    answer (``status: ERROR``), never an error."""
    source = await DataSourceRepository(session, editor.principal.tenant).get_or_404(source_id)
    try:
        number = phones.normalise(body.phone, DEFAULT_COUNTRY_CODE)
    except ValueError as exc:
        raise ValidationFailed.field("phone", str(exc)) from exc
    lookup = await _lookups(session, runtime, [source])
    await release_transaction(session)
    answer = await lookup[0].fetch(runtime, _values(number, number.full, ""))
    result = lookup[0].outcome(answer, utcnow(), cached=False)
    return SourceTestOut(**result.model_dump(), http_status=answer.status, latency_ms=answer.latency_ms)


async def data_for_conversation(
    session: AsyncSession, runtime: Runtime, principal: Principal, conversation_id: str, *, force: bool
) -> list[SourceData]:
    """The active sources' fields for the conversation's contact (404 outside the caller's view)."""
    conversation = await visible_conversation(session, principal, conversation_id)
    contact = await ContactRepository(session, principal.tenant).get_or_404(conversation.contact_id)
    sources = await DataSourceRepository(session, principal.tenant).listed(active_only=True)
    lookups = await _lookups(session, runtime, sources)
    await release_transaction(session)
    try:
        number = phones.normalise(contact.phone or contact.wa_id, DEFAULT_COUNTRY_CODE)
    except ValueError:
        return [lookup.failed("the contact has no phone number") for lookup in lookups]
    values = _values(number, contact.wa_id, contact.name or "")
    return list(
        await asyncio.gather(*(lookup.run(runtime, values, number, force=force) for lookup in lookups))
    )


def present(source: InboxDataSource) -> DataSourceOut:
    return DataSourceOut(
        id=source.id,
        name=source.name,
        connection_id=source.connection_id,
        method=source.method,
        path=source.path,
        query=dict(source.query or {}),
        headers=dict(source.headers or {}),
        body=source.body,
        fields=list(source.fields or []),
        cache_ttl_seconds=source.cache_ttl_seconds,
        is_active=source.is_active,
        order=source.position,
        created_at=source.created_at,
        updated_at=source.updated_at,
    )


@dataclass(frozen=True)
class _Lookup:
    """One source, with what calling it needs (read before the transaction is released)."""

    source_id: str
    name: str
    fields: list[dict[str, str]]
    template: engine.RequestTemplate
    endpoint: Endpoint | None  # None: its connection is switched off
    cache_key: str
    ttl_seconds: int

    async def run(
        self, runtime: Runtime, values: dict[str, Any], number: phones.PhoneNumber, *, force: bool
    ) -> SourceData:
        key = f"{self.cache_key}:{number.full}"
        if not force and (cached := await runtime.cache.get(key)) is not None:
            return SourceData.model_validate({**json.loads(cached), "cached": True})
        result = self.outcome(await self.fetch(runtime, values), utcnow(), cached=False)
        if result.status != "ERROR":
            await runtime.cache.put(key, result.model_dump_json(by_alias=True), self.ttl_seconds)
        return result

    async def fetch(self, runtime: Runtime, values: dict[str, Any]) -> engine.Answer:
        if self.endpoint is None:
            return engine.Answer(None, 0, error="its connection is switched off")
        allow_private = runtime.settings.allow_private_urls
        return await engine.send(self.endpoint, self.template, values, allow_private=allow_private)

    def outcome(self, answer: engine.Answer, fetched_at: datetime, *, cached: bool) -> SourceData:
        status, fields, error = _read(answer, self.fields)
        return SourceData(
            data_source_id=self.source_id,
            name=self.name,
            status=status,
            fields=fields,
            fetched_at=fetched_at,
            cached=cached,
            error=error,
        )

    def failed(self, error: str) -> SourceData:
        return SourceData(
            data_source_id=self.source_id,
            name=self.name,
            status="ERROR",
            fields=[],
            fetched_at=None,
            cached=False,
            error=error,
        )


def _read(answer: engine.Answer, fields: list[dict[str, str]]) -> tuple[Status, list[FieldValue], str | None]:
    """OK with the fields, NOT_FOUND (a 404, or none of the fields in the answer), or ERROR."""
    if answer.status == 404 and answer.error is None:
        return "NOT_FOUND", [], None
    if not answer.ok:
        return "ERROR", [], answer.error or f"the service answered {answer.status}"
    found = [(f["label"], paths.extract(answer.data, f["path"])) for f in fields]
    if all(value is paths.MISSING or value is None for _, value in found):
        return "NOT_FOUND", [], None
    return "OK", [FieldValue(label=label, value=_shown(value)) for label, value in found], None


async def _lookups(
    session: AsyncSession, runtime: Runtime, sources: Sequence[InboxDataSource]
) -> list[_Lookup]:
    ids = {source.connection_id for source in sources}
    if not ids:
        return []
    repo = ConnectionRepository(session, TenantContext.system(sources[0].organization_id))
    connections = {c.id: c for c in await repo.list(repo.select().where(Connection.id.in_(ids)))}
    return [_lookup(runtime, source, connections[source.connection_id]) for source in sources]


def _lookup(runtime: Runtime, source: InboxDataSource, connection: Connection) -> _Lookup:
    generation = f"{source.updated_at.timestamp()}:{connection.updated_at.timestamp()}"
    return _Lookup(
        source_id=source.id,
        name=source.name,
        fields=list(source.fields or []),
        template=engine.RequestTemplate(
            method=source.method,
            path=source.path,
            query=dict(source.query or {}),
            headers=dict(source.headers or {}),
            body=source.body,
        ),
        endpoint=endpoint_of(runtime.secrets, connection) if connection.is_active else None,
        cache_key=f"inbox-data:{source.organization_id}:{source.id}:{generation}",
        ttl_seconds=source.cache_ttl_seconds,
    )


def _values(number: phones.PhoneNumber, wa_id: str, contact_name: str) -> dict[str, Any]:
    return {
        "phone": number.full,
        "phone10": number.national,
        "phoneE164": f"+{number.full}",
        "waId": wa_id,
        "contact.name": contact_name,
    }


def _shown(value: Any) -> Any:
    shown, _ = trimmed(value, MAX_VALUE_CHARS)
    return shown


async def _apply(session: AsyncSession, editor: Actor, source: InboxDataSource, body: DataSourceIn) -> None:
    templates: dict[str, Any] = {
        "path": body.path,
        "query": body.query,
        "headers": body.headers,
        "body": body.body,
    }
    for field, template in templates.items():
        unknown = sorted(set(templating.placeholders(template)) - set(VARIABLES))
        if unknown:
            raise ValidationFailed.field(
                field, f"unknown variable {{{{{unknown[0]}}}}}: use {', '.join(VARIABLES)}"
            )
    await ConnectionRepository(session, editor.principal.tenant).get_or_404(body.connection_id)
    source.name = body.name
    source.connection_id = body.connection_id
    source.method = body.method
    source.path = body.path
    source.query = dict(body.query)
    source.headers = dict(body.headers)
    source.body = body.body
    source.fields = [f.model_dump() for f in body.fields]
    source.cache_ttl_seconds = body.cache_ttl_seconds
    source.is_active = body.is_active
    source.position = body.order


def _audit(session: AsyncSession, editor: Actor, action: str, source: InboxDataSource) -> None:
    editor.record(
        session,
        action,
        target_type="inbox_data_source",
        target_id=source.id,
        details={"name": source.name, "connectionId": source.connection_id},
    )
