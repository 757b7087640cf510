"""``/connections``, ``/tools``, ``/agent-tools``, ``/integrations`` and ``/phone-lookup``.

Connections, tools and the integration hold the business's credentials: no API key manages them.
Agents (and keys with the conversations scope) run tools and lookups in conversations they see.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS, Area, key_scope
from cxinbox.core.errors import AppError, NotFound, RateLimited, ServiceUnavailable
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.identity import Role
from cxinbox.tools import agent_calls, catalog, connections, integration
from cxinbox.tools.schemas import (
    AgentToolOut,
    CallReport,
    ConnectionIn,
    ConnectionOut,
    ConnectionTest,
    ExecuteTool,
    ExtractedParams,
    ExtractParams,
    IntegrationIn,
    IntegrationOut,
    IntegrationTest,
    IntegrationTestOut,
    Lookup,
    SecretsOut,
    ToolIn,
    ToolOut,
    ToolOutcomeOut,
    ToolTest,
)

AdminActor = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
ManagerActor = Annotated[Actor, Depends(acting_as(Role.ADMIN, Role.SUPERVISOR))]
MemberActor = Annotated[Actor, Depends(acting_as(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]
ForceParam = Annotated[bool, Query(description="Ask the service again, past the cache")]

_ADMIN = "Admins only (403 otherwise)."
_MANAGERS = "Admins and supervisors (403 otherwise)."
_REMOTE_FAILURE = (
    "When the remote fails (an error status, no answer, a refused address) the answer is still 200, "
    "with `ok: false`, the remote's `status` and a `bodyPreview`."
)
_BUSY = (
    "Addition: 429 `RATE_LIMITED` with `Retry-After` when the server's tool calls (or the "
    "organization's or the caller's share of them) stay taken for `CXINBOX_TOOL_CALLS_MAX_WAIT_SECONDS`."
)
_UNAVAILABLE = AppError.responses(
    NotFound(code="INTEGRATION_NOT_CONFIGURED"),
    ServiceUnavailable(code="INTEGRATION_UNAVAILABLE"),
    RateLimited,
)

connections_router = APIRouter(prefix="/connections", tags=["connections"], dependencies=[NO_API_KEYS])
tools_router = APIRouter(prefix="/tools", tags=["tools"], dependencies=[NO_API_KEYS])
agent_tools_router = APIRouter(
    prefix="/agent-tools", tags=["agent-tools"], dependencies=[key_scope(Area.CONVERSATIONS)]
)
integrations_router = APIRouter(prefix="/integrations", tags=["integrations"])
phone_lookup_router = APIRouter(
    prefix="/phone-lookup", tags=["phone-lookup"], dependencies=[key_scope(Area.CONVERSATIONS)]
)


# ---- connections -------------------------------------------------------------------------------


@connections_router.get(
    "", summary="List external connections for the organization", description=f"Secrets masked. {_MANAGERS}"
)
async def list_connections(
    actor: ManagerActor, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[list[ConnectionOut]]:
    return Envelope(
        data=[connections.present(runtime, c) for c in await connections.list_connections(session, actor)]
    )


@connections_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an external connection (admin only)",
    description="`{name, baseUrl, authType, headerName?, queryParam?, headers, secrets, timeoutMs, "
    f"isActive}}`; the secrets the auth type needs are required. {_ADMIN}",
)
async def create_connection(
    body: ConnectionIn, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ConnectionOut]:
    connection = await connections.create_connection(session, runtime, editor, body)
    return Envelope(data=connections.present(runtime, connection))


@connections_router.get(
    "/{id}/secrets",
    summary="Get unmasked secrets for a connection (admin only)",
    description=f"Written to the audit log. {_ADMIN}",
)
async def connection_secrets(
    id: str, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[SecretsOut]:
    return Envelope(data=SecretsOut(secrets=await connections.reveal_secrets(session, runtime, editor, id)))


@connections_router.delete(
    "/{id}",
    summary="Delete an external connection (admin only). Cascades InboxDataSource, nullifies "
    "BotTool.connectionId.",
    description=f"Its tools stay, without a connection. {_ADMIN}",
)
async def delete_connection(id: str, editor: AdminActor, session: SessionDep) -> Envelope[Deleted]:
    await connections.delete_connection(session, editor, id)
    return Envelope(data=Deleted(id=id))


@connections_router.put(
    "/{id}",
    summary="Update an external connection (admin only)",
    description="Replaces its settings; secrets left out (or sent masked) keep their value, `null` "
    f"removes one. {_ADMIN}",
)
async def update_connection(
    id: str, body: ConnectionIn, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ConnectionOut]:
    connection = await connections.update_connection(session, runtime, editor, id, body)
    return Envelope(data=connections.present(runtime, connection))


@connections_router.post(
    "/{id}/test",
    summary="Test an external connection with example variables (admin only)",
    description=f"`{{method?, path?, variables{{}}}}`: `{{{{name}}}}` in the path takes `variables.name`. "
    f"{_REMOTE_FAILURE} {_BUSY} {_ADMIN}",
    responses=AppError.responses(RateLimited),
)
async def test_connection(
    id: str, body: ConnectionTest, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[CallReport]:
    return Envelope(data=await connections.test_connection(session, runtime, editor, id, body))


# ---- tools -------------------------------------------------------------------------------------


@tools_router.get("", summary="List bot tools for this organization", description=_MANAGERS)
async def list_tools(actor: ManagerActor, session: ReadSessionDep) -> Envelope[list[ToolOut]]:
    return Envelope(data=[catalog.present(t) for t in await catalog.list_tools(session, actor)])


@tools_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a bot tool",
    description="The name is unique in the organization (409 TOOL_NAME_TAKEN); `parameters` must be a "
    "JSON Schema object; templates may use `{{params.<parameter>}}` and the conversation's variables "
    "(`contact.name`, `contact.phone`, `contact.waId`, `contact.id`, `conversation.id`, "
    f"`conversation.status`). {_ADMIN}",
)
async def create_tool(
    body: ToolIn, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ToolOut]:
    return Envelope(data=catalog.present(await catalog.create_tool(session, runtime, editor, body)))


@tools_router.delete("/{id}", summary="Delete a bot tool", description=_ADMIN)
async def delete_tool(id: str, editor: AdminActor, session: SessionDep) -> Envelope[Deleted]:
    await catalog.delete_tool(session, editor, id)
    return Envelope(data=Deleted(id=id))


@tools_router.put("/{id}", summary="Update a bot tool", description=f"Replaces its settings. {_ADMIN}")
async def update_tool(
    id: str, body: ToolIn, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ToolOut]:
    return Envelope(data=catalog.present(await catalog.update_tool(session, runtime, editor, id, body)))


@tools_router.post(
    "/{id}/test",
    summary="Test a tool with example parameters",
    description="`{params}` checked against the schema (400 naming each one), then the call: "
    f"`{{ok, status, result, truncated, latencyMs, error}}`, 200 even when the remote fails. {_BUSY} "
    f"{_ADMIN}",
    responses=AppError.responses(RateLimited),
)
async def test_tool(
    id: str, body: ToolTest, editor: AdminActor, request: Request
) -> Envelope[ToolOutcomeOut]:
    # no session or runtime dependency: each costs FastAPI a step on every request (``catalog.test_tool``)
    return Envelope(data=await catalog.test_tool(request.app.state.runtime, editor, id, body))


# ---- agent tools -------------------------------------------------------------------------------


@agent_tools_router.get(
    "", summary="List active tools available for agents", description="Active tools with `availableToAgents`."
)
async def list_agent_tools(actor: MemberActor, session: ReadSessionDep) -> Envelope[list[AgentToolOut]]:
    tools = await agent_calls.agent_tools(session, actor)
    return Envelope(data=[AgentToolOut.model_validate(t) for t in tools])


@agent_tools_router.post(
    "/extract-params",
    summary="Extract tool parameter values from conversation context using AI",
    description="In a conversation the caller sees (404 otherwise), the active bot config's model reads "
    "the tool's parameters from the conversation (one provider call, the customer's words passed as "
    "data): `{params, missing}`, where `params` holds only values that fit the tool's schema and "
    "`missing` the required ones it could not fill. Nothing runs: the agent checks them and calls "
    "`execute`. 409 BOT_NOT_AVAILABLE without an active bot config.",
)
async def extract_params(
    body: ExtractParams, actor: MemberActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ExtractedParams]:
    params, missing = await agent_calls.extract_params(session, runtime, actor, body)
    return Envelope(data=ExtractedParams(params=params, missing=missing))


@agent_tools_router.post(
    "/execute",
    summary="Execute a tool with given parameters",
    description="In a conversation the caller sees (404 otherwise), with `params` checked against the "
    "tool's schema (400 naming each one). Writes a timeline entry (kind TOOL) and an audit entry. "
    f"The remote's failure is `ok: false` in a 200. {_BUSY}",
    responses=AppError.responses(RateLimited),
)
async def execute_tool(
    body: ExecuteTool, actor: MemberActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ToolOutcomeOut]:
    return Envelope(data=catalog.outcome_out(await agent_calls.execute(session, runtime, actor, body)))


# ---- integrations ------------------------------------------------------------------------------


@integrations_router.get(
    "",
    summary="Get integration config for the organization (secrets masked)",
    description=f"`data` is null when none is configured. {_MANAGERS}",
    dependencies=[NO_API_KEYS],
)
async def get_integration(
    actor: ManagerActor, session: ReadSessionDep, runtime: RuntimeDep
) -> Envelope[IntegrationOut | None]:
    found = await integration.current(session, actor.principal)
    return Envelope(data=None if found is None else integration.present(runtime, found))


@integrations_router.delete(
    "",
    summary="Delete integration config (admin only)",
    description=f"404 INTEGRATION_NOT_CONFIGURED when there is none. {_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def delete_integration(editor: AdminActor, session: SessionDep) -> Envelope[Deleted]:
    deleted = await integration.delete(session, editor)
    return Envelope(data=Deleted(id=deleted.id))


@integrations_router.put(
    "",
    summary="Create or update integration config (admin only)",
    description="`{baseUrl, lookupPath, authType, headerName?, queryParam?, headers, secrets, resultPath?, "
    "fieldMapping, cacheTtlSeconds, defaultCountryCode, isEnabled, timeoutMs}`; saving forgets the "
    f"cached answers. {_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def put_integration(
    body: IntegrationIn, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[IntegrationOut]:
    return Envelope(data=integration.present(runtime, await integration.save(session, runtime, editor, body)))


@integrations_router.get(
    "/secrets",
    summary="Get unmasked secrets for the organization (admin only)",
    description=f"Written to the audit log. {_ADMIN}",
    dependencies=[NO_API_KEYS],
)
async def integration_secrets(
    editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[SecretsOut]:
    return Envelope(data=SecretsOut(secrets=await integration.reveal_secrets(session, runtime, editor)))


@integrations_router.post(
    "/test",
    summary="Test integration connection with a phone number (admin only)",
    description=f"`{{phone}}`; bypasses the cache. {_REMOTE_FAILURE} {_BUSY} {_ADMIN}",
    dependencies=[NO_API_KEYS],
    responses=AppError.responses(RateLimited),
)
async def test_integration(
    body: IntegrationTest, editor: AdminActor, session: SessionDep, runtime: RuntimeDep
) -> Envelope[IntegrationTestOut]:
    return Envelope(data=await integration.test(session, runtime, editor, body.phone))


@integrations_router.get(
    "/data/{conversationId}",
    summary="Fetch external data for a conversation's contact",
    description="The lookup of the contact's number, in a conversation the caller sees (404 otherwise). "
    + _BUSY,
    dependencies=[key_scope(Area.CONVERSATIONS)],
    responses=_UNAVAILABLE,
)
async def integration_data(
    conversation_id: Annotated[str, Path(alias="conversationId")],
    actor: MemberActor,
    session: SessionDep,
    runtime: RuntimeDep,
    force: ForceParam = False,
) -> Envelope[Lookup]:
    found = await integration.lookup_for_conversation(
        session, runtime, actor.principal, conversation_id, force=force
    )
    return Envelope(data=found)


@phone_lookup_router.get(
    "/{phone}",
    summary="Look up client account by phone number",
    description="`phone`: 10 digits, or the full number with its country code (a Mexican mobile's `521…` "
    "matches its last 10 digits). 400 when it is neither; no account is 200 `found: false`; answers are "
    f"cached for the integration's `cacheTtlSeconds` (`force` asks again). {_BUSY}",
    responses=_UNAVAILABLE,
)
async def phone_lookup(
    phone: str, actor: MemberActor, session: SessionDep, runtime: RuntimeDep, force: ForceParam = False
) -> Envelope[Lookup]:
    return Envelope(data=await integration.lookup(session, runtime, actor.principal, phone, force=force))


#: the endpoints that call a business's API: ``core.admission.ToolCallGate`` holds their requests
#: at the app's edge while the process's tool calls are taken
CALLING_ENDPOINTS = frozenset(
    {test_connection, test_tool, execute_tool, test_integration, integration_data, phone_lookup}
)
ROUTERS = (connections_router, tools_router, agent_tools_router, integrations_router, phone_lookup_router)
