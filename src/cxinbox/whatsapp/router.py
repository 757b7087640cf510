"""``/whatsapp-accounts``: the organization's connected numbers (tokens are never returned)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from cxinbox.auth.dependencies import AdminDep, MemberDep, RuntimeDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.whatsapp import MetaAppConfig, WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp import numbers
from cxinbox.whatsapp.repository import MetaAppConfigRepository, WhatsAppAccountRepository
from cxinbox.whatsapp.schemas import (
    AccountHealth,
    ConnectEmbedded,
    ConnectManual,
    MetaConfigIn,
    MetaConfigOut,
    UpdateAccount,
    WhatsAppAccountOut,
)

router = APIRouter(
    prefix="/whatsapp-accounts", tags=["whatsapp-accounts"], dependencies=[key_scope(Area.WHATSAPP)]
)

CONNECT_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "The organization's account for this number was reconnected and updated"},
    400: {
        "description": "VALIDATION_ERROR: Meta refused the token or the business account, or does not "
        "list the number in the business account (the field is in details)"
    },
    402: {"description": "PLAN_LIMIT_REACHED: the plan's WhatsApp numbers are used up"},
    409: {
        "description": "ALREADY_CONNECTED: the number or its business account belongs to another organization"
    },
    503: {
        "description": "GRAPH_UNAVAILABLE: Meta could not confirm the number now (nothing was stored); "
        "try again after Retry-After"
    },
}


def account_out(account: WhatsAppAccount) -> WhatsAppAccountOut:
    return WhatsAppAccountOut.model_validate(account)


@router.get("/meta-config", summary="Get Meta app configuration (appId + configId, no secret)")
async def get_meta_config(
    principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[MetaConfigOut]:
    config = await MetaAppConfigRepository(session, principal.tenant).current()
    return Envelope(data=_meta_config_out(runtime, config))


@router.put("/meta-config", summary="Save Meta app configuration to DB", dependencies=[NO_API_KEYS])
async def put_meta_config(
    body: MetaConfigIn, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[MetaConfigOut]:
    config = await numbers.save_meta_config(session, principal, body)
    return Envelope(data=_meta_config_out(runtime, config))


def _meta_config_out(runtime: Runtime, config: MetaAppConfig | None) -> MetaConfigOut:
    settings = runtime.settings
    return MetaConfigOut(
        app_id=(config.app_id if config else None) or settings.meta_app_id,
        config_id=config.config_id if config else None,
        graph_version=settings.meta_graph_version,
        webhook_verify_configured=bool(settings.meta_verify_token),
    )


@router.get("", summary="List connected WhatsApp Business accounts")
async def list_accounts(principal: MemberDep, session: SessionDep) -> Envelope[list[WhatsAppAccountOut]]:
    found = await WhatsAppAccountRepository(session, principal.tenant).list_live()
    return Envelope(data=[account_out(a) for a in found])


@router.post(
    "/connect",
    dependencies=[NO_API_KEYS],
    status_code=status.HTTP_201_CREATED,
    summary="Connect account via Meta Embedded Signup (exchange code for token)",
    responses={
        **CONNECT_RESPONSES,
        503: {
            "description": "META_NOT_CONFIGURED, or GRAPH_UNAVAILABLE: Meta could not confirm the number "
            "now (nothing was stored); try again after Retry-After"
        },
    },
)
async def connect(
    body: ConnectEmbedded, response: Response, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[WhatsAppAccountOut]:
    account, created = await numbers.connect_embedded(session, runtime, principal, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Envelope(data=account_out(account))


@router.post(
    "/connect-manual",
    dependencies=[NO_API_KEYS],
    status_code=status.HTTP_201_CREATED,
    summary="Connect account with manually provided credentials",
    responses=CONNECT_RESPONSES,
)
async def connect_manual(
    body: ConnectManual, response: Response, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[WhatsAppAccountOut]:
    account, created = await numbers.connect_manual(session, runtime, principal, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Envelope(data=account_out(account))


@router.patch("/{id}", summary="Update account alias or access token", dependencies=[NO_API_KEYS])
async def update_account(
    id: str, body: UpdateAccount, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[WhatsAppAccountOut]:
    return Envelope(data=account_out(await numbers.update(session, principal, runtime, id, body)))


@router.delete("/{id}", summary="Disconnect a WhatsApp Business account", dependencies=[NO_API_KEYS])
async def disconnect(id: str, principal: AdminDep, session: SessionDep) -> Envelope[Deleted]:
    await numbers.disconnect(session, principal, id)
    return Envelope(data=Deleted(id=id))


@router.get("/{id}/health", summary="Get live health and status info from Meta Graph API")
async def account_health(
    id: str, principal: SupervisorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[AccountHealth]:
    return Envelope(data=await numbers.health(session, principal, runtime, id))
