"""Connecting, updating and disconnecting WhatsApp numbers, and their live health.

Graph API calls happen before the database is touched, so no request holds a transaction open while
it waits on Meta. Nothing a client says about a number is taken on trust: before a number is saved,
Meta confirms with the given token that the number is one of the business account's
(``GET /{waba_id}/phone_numbers``) and that the token can read it (``GET /{phone_number_id}``). Meta
refusing answers 400; Meta unreachable or failing answers 503 with ``Retry-After``, and nothing is
stored.

A number and its WhatsApp Business Account belong to one organization: when either is connected to
another organization, the claim answers 409 ``ALREADY_CONNECTED`` (one answer for both, and only
to a caller Meta has confirmed can use them); the same organization reconnecting updates its
account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError, PhoneNumberInfo
from cxinbox.audit.service import record
from cxinbox.auth.principal import Principal
from cxinbox.core.clock import utcnow
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import Conflict, ServiceUnavailable, ValidationFailed
from cxinbox.models.identity import Organization
from cxinbox.models.whatsapp import AccountStatus, MetaAppConfig, WhatsAppAccount
from cxinbox.plans.limits import WHATSAPP_NUMBERS, ensure_within_limit
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.alerts.service import raise_token_alert
from cxinbox.whatsapp.reports import QUALITY_FIELDS, STATUS, mark_reported
from cxinbox.whatsapp.repository import (
    MetaAppConfigRepository,
    WhatsAppAccountRepository,
    live_accounts_by_number,
    live_accounts_by_waba,
)
from cxinbox.whatsapp.schemas import (
    AccountHealth,
    ConnectEmbedded,
    ConnectManual,
    MetaConfigIn,
    UpdateAccount,
)

#: seconds a client is asked to wait when Meta could not confirm a number
GRAPH_RETRY_AFTER_SECONDS = 30


class AlreadyConnected(Conflict):
    code = "ALREADY_CONNECTED"
    message = "This phone number or its WhatsApp Business Account is connected to another organization"


class NotInBusinessAccount(ValidationFailed):
    def __init__(self) -> None:
        message = "Meta does not list this phone number in the WhatsApp Business Account"
        super().__init__(
            f"phoneNumberId: {message}", details=[{"field": "phoneNumberId", "message": message}]
        )


@dataclass(frozen=True)
class Credentials:
    waba_id: str
    phone_number_id: str
    access_token: str
    app_secret: str | None
    display_phone_number: str | None
    alias: str | None


async def connect_manual(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: ConnectManual
) -> tuple[WhatsAppAccount, bool]:
    credentials = Credentials(
        body.waba_id,
        body.phone_number_id,
        body.access_token,
        body.app_secret,
        body.display_phone_number,
        body.alias,
    )
    await release_transaction(session)
    info = await _confirm_number(runtime, credentials.access_token, body.waba_id, body.phone_number_id)
    return await _save(session, runtime, principal, credentials, info)


async def connect_embedded(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: ConnectEmbedded
) -> tuple[WhatsAppAccount, bool]:
    """Embedded Signup: exchange the code, subscribe the app to the WABA, register the number."""
    meta = runtime.settings.meta
    if not meta.app_id or not meta.app_secret:
        raise ServiceUnavailable("The Meta app is not configured", code="META_NOT_CONFIGURED")
    if not body.waba_id or not body.phone_number_id:
        raise ValidationFailed(
            "wabaId and phoneNumberId (from the Embedded Signup session) are required",
            details=[
                {"field": name, "message": "required"}
                for name, value in (("wabaId", body.waba_id), ("phoneNumberId", body.phone_number_id))
                if not value
            ],
        )
    await release_transaction(session)
    try:
        async with GraphClient(meta) as graph:
            token = await graph.exchange_code(body.code)
        async with GraphClient(meta, token) as graph:
            await graph.subscribe_app(body.waba_id)
            if body.pin:
                await graph.register_number(body.phone_number_id, body.pin)
    except GraphError as exc:
        raise _as_app_error(exc, "code") from exc
    info = await _confirm_number(runtime, token, body.waba_id, body.phone_number_id)
    credentials = Credentials(body.waba_id, body.phone_number_id, token, None, None, body.alias)
    return await _save(session, runtime, principal, credentials, info)


async def _confirm_number(
    runtime: Runtime, token: str, waba_id: str, phone_number_id: str
) -> PhoneNumberInfo:
    """The number as Meta sees it, once Meta confirmed, with ``token``, that it is one of the business
    account's numbers and that the token can read it. A token, account or number Meta refuses is a
    bad request; a Meta that cannot answer now is a 503."""
    asking_about = "wabaId"
    try:
        async with GraphClient(runtime.settings.meta, token) as graph:
            listed = await graph.business_account_numbers(waba_id)
            if phone_number_id not in {number.id for number in listed}:
                raise NotInBusinessAccount()
            asking_about = "phoneNumberId"
            return await graph.phone_number(phone_number_id)
    except GraphError as exc:
        raise _as_app_error(exc, "accessToken" if exc.is_auth_error else asking_about) from exc


def _as_app_error(exc: GraphError, field: str) -> Exception:
    if exc.retryable:
        return ServiceUnavailable(
            "The WhatsApp Cloud API is unavailable, try again",
            code="GRAPH_UNAVAILABLE",
            details={"retryAfter": GRAPH_RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(GRAPH_RETRY_AFTER_SECONDS)},
        )
    return ValidationFailed(
        f"{field}: Meta refused it ({exc.message})",
        details=[{"field": field, "message": exc.message, "metaCode": exc.code, "metaSubcode": exc.subcode}],
    )


async def _save(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    credentials: Credentials,
    info: PhoneNumberInfo,
) -> tuple[WhatsAppAccount, bool]:
    tenant = principal.tenant
    await _ensure_unclaimed(session, tenant.organization_id, credentials)
    repo = WhatsAppAccountRepository(session, tenant)
    account = await repo.by_phone_number_id(credentials.phone_number_id)
    created = account is None
    if account is None or account.status == AccountStatus.DISCONNECTED:
        organization = await session.get_one(Organization, tenant.organization_id)
        await ensure_within_limit(session, organization, WHATSAPP_NUMBERS)
    if account is None:
        account = repo.add(
            WhatsAppAccount(phone_number_id=credentials.phone_number_id, waba_id=credentials.waba_id)
        )
    account.waba_id = credentials.waba_id
    account.access_token_encrypted = runtime.secrets.encrypt(credentials.access_token)
    if credentials.app_secret:
        account.app_secret_encrypted = runtime.secrets.encrypt(credentials.app_secret)
    if credentials.alias is not None:
        account.alias = credentials.alias.strip() or None
    account.display_phone_number = credentials.display_phone_number or account.display_phone_number
    _apply_info(account, info)
    if account.status != AccountStatus.CONNECTED:
        account.status = AccountStatus.CONNECTED
        account.connected_at = utcnow()
        account.disconnected_at = None
        # a ban or deletion Meta reported before this connection no longer stops the number
        mark_reported(account, [STATUS], account.connected_at)
    await session.flush()
    record(
        session,
        principal,
        "whatsapp_account.connected" if created else "whatsapp_account.reconnected",
        target_type="whatsapp_account",
        target_id=account.id,
        details={"phoneNumberId": account.phone_number_id, "wabaId": account.waba_id},
    )
    return account, created


async def _ensure_unclaimed(session: AsyncSession, organization_id: str, credentials: Credentials) -> None:
    """409 when the number or its business account is connected to another organization (one
    organization receives a business account's events and acts on its state)."""
    by_number = await live_accounts_by_number(session, [credentials.phone_number_id])
    by_waba = await live_accounts_by_waba(session, [credentials.waba_id])
    owners = {a.organization_id for a in [*by_number.values(), *by_waba]}
    if owners - {organization_id}:
        raise AlreadyConnected()


def _apply_info(account: WhatsAppAccount, info: PhoneNumberInfo) -> None:
    """What Meta answers now is newer than any webhook sent before it."""
    account.display_phone_number = info.display_phone_number or account.display_phone_number
    account.verified_name = info.verified_name or account.verified_name
    account.quality_rating = info.quality_rating
    account.messaging_limit_tier = info.messaging_limit_tier
    account.name_status = info.name_status
    account.health_checked_at = utcnow()
    mark_reported(account, QUALITY_FIELDS, account.health_checked_at)


async def update(
    session: AsyncSession, principal: Principal, runtime: Runtime, account_id: str, body: UpdateAccount
) -> WhatsAppAccount:
    account = await WhatsAppAccountRepository(session, principal.tenant).get_live_or_404(account_id)
    changes = body.model_dump(exclude_unset=True)
    if "alias" in changes:
        account.alias = (changes["alias"] or "").strip() or None
    if changes.get("access_token"):
        account.access_token_encrypted = runtime.secrets.encrypt(changes["access_token"])
        if account.status == AccountStatus.TOKEN_INVALID:  # a new token does not lift a ban
            account.status = AccountStatus.CONNECTED
    if changes.get("app_secret"):
        account.app_secret_encrypted = runtime.secrets.encrypt(changes["app_secret"])
    await session.flush()
    record(
        session,
        principal,
        "whatsapp_account.updated",
        target_type="whatsapp_account",
        target_id=account.id,
        details={"fields": sorted(changes)},
    )
    return account


async def disconnect(session: AsyncSession, principal: Principal, account_id: str) -> None:
    """The number stops routing here; its conversations stay. Credentials are erased."""
    account = await WhatsAppAccountRepository(session, principal.tenant).get_live_or_404(account_id)
    account.status = AccountStatus.DISCONNECTED
    account.disconnected_at = utcnow()
    account.access_token_encrypted = None
    account.app_secret_encrypted = None
    await session.flush()
    record(
        session,
        principal,
        "whatsapp_account.disconnected",
        target_type="whatsapp_account",
        target_id=account.id,
        details={"phoneNumberId": account.phone_number_id},
    )


async def health(
    session: AsyncSession, principal: Principal, runtime: Runtime, account_id: str
) -> AccountHealth:
    """Asks Meta now; the account's quality fields are refreshed, and a rejected token marks it
    TOKEN_INVALID and raises an alert."""
    account = await WhatsAppAccountRepository(session, principal.tenant).get_live_or_404(account_id)
    token = (
        runtime.secrets.decrypt(account.access_token_encrypted) if account.access_token_encrypted else None
    )
    await release_transaction(session)
    info = await _ask_meta(runtime, token, account.phone_number_id)
    await session.refresh(account)  # it may have changed while Meta answered
    if isinstance(info, GraphError):
        await raise_token_alert(session, account, info)
        account.health_checked_at = utcnow()
        return AccountHealth(
            id=account.id,
            status=account.status,
            healthy=False,
            error=info.as_dict(),
            checked_at=account.health_checked_at,
        )
    _apply_info(account, info)
    return AccountHealth(
        id=account.id,
        status=account.status,
        healthy=account.status == AccountStatus.CONNECTED,
        display_phone_number=info.display_phone_number,
        verified_name=info.verified_name,
        quality_rating=info.quality_rating,
        messaging_limit_tier=info.messaging_limit_tier,
        throughput=info.throughput,
        name_status=info.name_status,
        checked_at=account.health_checked_at or utcnow(),
    )


async def _ask_meta(
    runtime: Runtime, token: str | None, phone_number_id: str
) -> PhoneNumberInfo | GraphError:
    try:
        async with GraphClient(runtime.settings.meta, token) as graph:
            return await graph.phone_number(phone_number_id)
    except GraphError as exc:
        return exc


async def save_meta_config(session: AsyncSession, principal: Principal, body: MetaConfigIn) -> MetaAppConfig:
    repo = MetaAppConfigRepository(session, principal.tenant)
    config = await repo.current() or repo.add(MetaAppConfig())
    changes = body.model_dump(exclude_unset=True)
    for field in ("app_id", "config_id"):
        if field in changes:
            setattr(config, field, (changes[field] or "").strip() or None)
    await session.flush()
    record(session, principal, "meta_config.updated", target_type="meta_app_config", target_id=config.id)
    return config
