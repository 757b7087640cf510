"""FastAPI dependencies: the runtime, the request's unit of work, the principal and role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.credentials import API_KEY_PREFIX, principal_from_access_token, principal_from_api_key
from cxinbox.auth.principal import Principal
from cxinbox.auth.scopes import ensure_key_may_call
from cxinbox.core.db import commit, rollback
from cxinbox.core.errors import AppError, Forbidden, Unauthorized
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.identity import Role
from cxinbox.runtime import Runtime

bearer_scheme = HTTPBearer(auto_error=False, description="Access token (JWT) or API key")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, before the response is sent
    (so the client never sees a success that was not stored), rolled back on any error."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.sessionmaker() as session:
        try:
            yield session
        except AppError as exc:
            await (commit(session) if exc.keep_changes else rollback(session))
            raise
        except BaseException:
            await rollback(session)
            raise
        else:
            await commit(session)


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _request_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's read session, for an endpoint that writes nothing (a list, a detail, counts):
    on SQLite it reads a snapshot without waiting for the process's write turn; with
    ``database_read_url`` it reads the replica. A write through it raises."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.read_session() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(_request_read_session, scope="function")]


def authorized_for_route(principal: Principal, request: Request) -> Principal:
    """The one place an API key's reach is checked: against the scope its route declares."""
    if principal.api_key_id is not None:
        ensure_key_may_call(principal.scopes, request.scope.get("route"), request.method)
    return principal


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
ApiKeyDep = Annotated[str | None, Depends(api_key_scheme)]

#: ``scope`` key of the request's principal, once checked
_PRINCIPAL = "cxinbox.principal"


async def current_principal(request: Request, bearer: BearerDep, api_key: ApiKeyDep) -> Principal:
    """The request's principal, checked once per request: every dependency that needs it (a role
    check, the tenant, the acting user) takes the credentials itself and calls this, so a route's
    dependencies are solved in one step each and an API key's use is still counted once."""
    principal: Principal | None = request.scope.get(_PRINCIPAL)
    if principal is None:
        runtime: Runtime = request.app.state.runtime
        principal = authorized_for_route(await _credential_principal(runtime, bearer, api_key), request)
        request.scope[_PRINCIPAL] = principal
    return principal


async def _credential_principal(
    runtime: Runtime, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Principal:
    """Checked in a transaction of its own, ended before the endpoint runs (a token in a read
    session; an API key where its use is counted): a request never holds two connections at once,
    and one that only reads never takes the write turn."""
    if api_key:
        return await principal_from_api_key(runtime, api_key)
    if bearer is None or bearer.scheme.lower() != "bearer" or not bearer.credentials:
        raise Unauthorized("Authentication required")
    token = bearer.credentials
    if token.startswith(API_KEY_PREFIX):
        return await principal_from_api_key(runtime, token)
    return await principal_from_access_token(runtime, token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]

RoleCheck = Callable[[Request, HTTPAuthorizationCredentials | None, str | None], Awaitable[Principal]]


def require_roles(*roles: Role) -> RoleCheck:
    """A dependency that lets through only ``roles`` (ADMIN includes a super admin in an entered org).
    It takes the credentials itself rather than ``PrincipalDep``: one dependency to solve, not two."""

    async def check(request: Request, bearer: BearerDep, api_key: ApiKeyDep) -> Principal:
        principal = await current_principal(request, bearer, api_key)
        if not principal.has_role(*roles):
            raise Forbidden("Your role does not allow this")
        return principal

    return check


async def tenant_of(request: Request, bearer: BearerDep, api_key: ApiKeyDep) -> TenantContext:
    return (await current_principal(request, bearer, api_key)).tenant


TenantDep = Annotated[TenantContext, Depends(tenant_of)]
AdminDep = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
SupervisorDep = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
MemberDep = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]
SuperAdminDep = Annotated[Principal, Depends(require_roles(Role.SUPER_ADMIN))]
