"""The organization's customer-account lookup: one integration (an endpoint and a lookup path with
``{{phone}}``), run on the tools' engine, its answers cached per number for ``cacheTtlSeconds``.

An answer of 404, or an account that is empty or absent at ``resultPath``, is ``found: false`` (a
200); any other failure of the remote is 503 ``INTEGRATION_UNAVAILABLE`` (its test reports it as
``ok: false`` instead).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.contacts.repository import ContactRepository
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert, release_transaction
from cxinbox.core.errors import NotFound, ServiceUnavailable, ValidationFailed
from cxinbox.core.ids import new_id
from cxinbox.models.tools import Integration, IntegrationLookup
from cxinbox.runtime import Runtime
from cxinbox.tools import engine, paths, phones, runner
from cxinbox.tools.configure import apply_endpoint, endpoint_fields, report
from cxinbox.tools.endpoints import endpoint_of, open_secrets
from cxinbox.tools.repository import IntegrationRepository, LookupRepository
from cxinbox.tools.schemas import IntegrationIn, IntegrationOut, IntegrationTestOut, Lookup

PHONE_VARIABLES = ("phone", "countryCode", "fullPhone")


class IntegrationNotConfigured(NotFound):
    code = "INTEGRATION_NOT_CONFIGURED"
    message = "No integration is configured"


class IntegrationUnavailable(ServiceUnavailable):
    code = "INTEGRATION_UNAVAILABLE"
    message = "The integration's service did not answer usably"


async def current(session: AsyncSession, principal: Principal) -> Integration | None:
    return await IntegrationRepository(session, principal.tenant).current()


async def save(session: AsyncSession, runtime: Runtime, editor: Actor, body: IntegrationIn) -> Integration:
    """Create or replace the integration; its cached answers are forgotten."""
    tenant = editor.principal.tenant
    repo = IntegrationRepository(session, tenant)
    integration = await repo.current()
    created = integration is None
    if integration is None:
        integration = repo.add(Integration())
    apply_endpoint(runtime.secrets, integration, body, allow_private=runtime.settings.allow_private_urls)
    for field in ("lookup_path", "result_path", "field_mapping", "cache_ttl_seconds", "default_country_code"):
        setattr(integration, field, getattr(body, field))
    integration.is_enabled = body.is_enabled
    await LookupRepository(session, tenant).forget_all()
    await repo.flush()
    _audit(session, editor, "integration.created" if created else "integration.updated", integration)
    return integration


async def delete(session: AsyncSession, editor: Actor) -> Integration:
    integration = await _configured(session, editor.principal)
    await LookupRepository(session, editor.principal.tenant).forget_all()
    await session.delete(integration)
    await session.flush()
    _audit(session, editor, "integration.deleted", integration)
    return integration


async def reveal_secrets(session: AsyncSession, runtime: Runtime, editor: Actor) -> dict[str, str]:
    integration = await _configured(session, editor.principal)
    secrets = open_secrets(runtime.secrets, integration)
    _audit(session, editor, "integration.secrets_revealed", integration, names=sorted(secrets))
    return secrets


async def test(session: AsyncSession, runtime: Runtime, editor: Actor, raw_phone: str) -> IntegrationTestOut:
    integration = await _configured(session, editor.principal)
    phone = _phone(raw_phone, integration)
    await release_transaction(session)
    answer = await _fetch(runtime, integration, phone)
    found, data = _account(integration, answer)
    return IntegrationTestOut(**report(answer).model_dump(), found=found, data=data)


async def lookup(
    session: AsyncSession, runtime: Runtime, principal: Principal, raw_phone: str, *, force: bool
) -> Lookup:
    integration = await _configured(session, principal, enabled=True)
    phone = _phone(raw_phone, integration)
    lookups = LookupRepository(session, principal.tenant)
    ttl = timedelta(seconds=integration.cache_ttl_seconds)
    if not force and ttl:
        cached = await lookups.by_phone(phone.national)
        if cached is not None and cached.fetched_at + ttl > utcnow():
            return Lookup(
                found=cached.found,
                phone=phone.national,
                data=cached.data,
                cached=True,
                fetched_at=cached.fetched_at,
            )
    await release_transaction(session)
    answer = await _fetch(runtime, integration, phone)
    if answer.error is not None or not (answer.ok or answer.status == 404):
        raise IntegrationUnavailable(details={"status": answer.status, "error": answer.error})
    found, data = _account(integration, answer)
    fetched_at = utcnow()
    if ttl:
        await _remember(session, integration.organization_id, phone.national, found, data, fetched_at)
    return Lookup(found=found, phone=phone.national, data=data, cached=False, fetched_at=fetched_at)


async def lookup_for_conversation(
    session: AsyncSession, runtime: Runtime, principal: Principal, conversation_id: str, *, force: bool
) -> Lookup:
    """A contact without a usable number (a username instead of a phone) is ``found: false``."""
    conversation = await visible_conversation(session, principal, conversation_id)
    contact = await ContactRepository(session, principal.tenant).get_or_404(conversation.contact_id)
    integration = await _configured(session, principal, enabled=True)
    number = contact.phone or contact.wa_id
    try:
        phones.normalise(number, integration.default_country_code)
    except ValueError:
        return Lookup(found=False, phone="")
    return await lookup(session, runtime, principal, number, force=force)


def present(runtime: Runtime, integration: Integration) -> IntegrationOut:
    return IntegrationOut(
        id=integration.id,
        lookup_path=integration.lookup_path,
        result_path=integration.result_path,
        field_mapping=dict(integration.field_mapping or {}),
        cache_ttl_seconds=integration.cache_ttl_seconds,
        default_country_code=integration.default_country_code,
        is_enabled=integration.is_enabled,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
        **endpoint_fields(runtime.secrets, integration),
    )


async def _configured(session: AsyncSession, principal: Principal, *, enabled: bool = False) -> Integration:
    integration = await current(session, principal)
    if integration is None or (enabled and not integration.is_enabled):
        raise IntegrationNotConfigured()
    return integration


def _phone(raw: str, integration: Integration) -> phones.PhoneNumber:
    try:
        return phones.normalise(raw, integration.default_country_code)
    except ValueError as exc:
        raise ValidationFailed.field("phone", str(exc)) from exc


async def _fetch(runtime: Runtime, integration: Integration, phone: phones.PhoneNumber) -> engine.Answer:
    values = {"phone": phone.national, "countryCode": phone.country_code, "fullPhone": phone.full}
    request = engine.RequestTemplate(method="GET", path=integration.lookup_path)
    endpoint = endpoint_of(runtime.secrets, integration)
    return await engine.send(endpoint, request, values, allow_private=runtime.settings.allow_private_urls)


def _account(integration: Integration, answer: engine.Answer) -> tuple[bool, Any]:
    """Whether the answer holds an account, and its mapped fields (cut like a tool's result)."""
    if not answer.ok:
        return False, None
    account = paths.extract(answer.data, integration.result_path)
    if isinstance(account, list):
        account = account[0] if account else None
    if account is paths.MISSING or account in (None, "", {}, []):
        return False, None
    mapping = integration.field_mapping or {}
    if mapping:
        mapped = {name: paths.extract(account, path) for name, path in mapping.items()}
        account = {name: None if value is paths.MISSING else value for name, value in mapped.items()}
    return True, runner.trimmed(account)[0]


async def _remember(
    session: AsyncSession, organization_id: str, phone: str, found: bool, data: Any, fetched_at: Any
) -> None:
    insert = dialect_insert(session)
    values = {"found": found, "data": data, "fetched_at": fetched_at, "updated_at": fetched_at}
    stmt = insert(IntegrationLookup).values(
        id=new_id(), organization_id=organization_id, phone=phone, created_at=fetched_at, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["organization_id", "phone"], set_=values)
    )


def _audit(
    session: AsyncSession, editor: Actor, action: str, integration: Integration, **details: object
) -> None:
    editor.record(
        session,
        action,
        target_type="integration",
        target_id=integration.id,
        details={"baseUrl": integration.base_url, **details},
    )
