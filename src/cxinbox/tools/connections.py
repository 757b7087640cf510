"""Connections: a base URL and credentials the organization's tools call through. Every change, and
every reveal of the credentials, is written to the audit log (never the credentials themselves)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.core.db import release_transaction
from cxinbox.models.tools import Connection
from cxinbox.runtime import Runtime
from cxinbox.tools import engine
from cxinbox.tools.configure import apply_endpoint, endpoint_fields, report
from cxinbox.tools.endpoints import endpoint_of, open_secrets
from cxinbox.tools.repository import ConnectionRepository, ToolRepository
from cxinbox.tools.schemas import CallReport, ConnectionIn, ConnectionOut, ConnectionTest


async def list_connections(session: AsyncSession, actor: Actor) -> Sequence[Connection]:
    return await ConnectionRepository(session, actor.principal.tenant).listed()


async def create_connection(
    session: AsyncSession, runtime: Runtime, editor: Actor, body: ConnectionIn
) -> Connection:
    repo = ConnectionRepository(session, editor.principal.tenant)
    connection = Connection(name=body.name, is_active=body.is_active)
    apply_endpoint(runtime.secrets, connection, body, allow_private=runtime.settings.allow_private_urls)
    repo.add(connection)
    await repo.flush()
    _audit(session, editor, "connection.created", connection)
    return connection


async def update_connection(
    session: AsyncSession, runtime: Runtime, editor: Actor, connection_id: str, body: ConnectionIn
) -> Connection:
    connection = await ConnectionRepository(session, editor.principal.tenant).get_or_404(connection_id)
    apply_endpoint(runtime.secrets, connection, body, allow_private=runtime.settings.allow_private_urls)
    connection.name, connection.is_active = body.name, body.is_active
    await session.flush()
    _audit(session, editor, "connection.updated", connection)
    return connection


async def delete_connection(session: AsyncSession, editor: Actor, connection_id: str) -> None:
    """The tools that used it stay, without a connection; its inbox data sources go with it (the
    foreign key cascades)."""
    tenant = editor.principal.tenant
    connection = await ConnectionRepository(session, tenant).get_or_404(connection_id)
    await ToolRepository(session, tenant).unlink(connection.id)
    await session.delete(connection)
    await session.flush()
    _audit(session, editor, "connection.deleted", connection)


async def reveal_secrets(
    session: AsyncSession, runtime: Runtime, editor: Actor, connection_id: str
) -> dict[str, str]:
    connection = await ConnectionRepository(session, editor.principal.tenant).get_or_404(connection_id)
    secrets = open_secrets(runtime.secrets, connection)
    _audit(session, editor, "connection.secrets_revealed", connection, names=sorted(secrets))
    return secrets


async def test_connection(
    session: AsyncSession, runtime: Runtime, editor: Actor, connection_id: str, body: ConnectionTest
) -> CallReport:
    """Call the connection; the remote's failure is the report (``ok: false``), never an error."""
    connection = await ConnectionRepository(session, editor.principal.tenant).get_or_404(connection_id)
    endpoint = endpoint_of(runtime.secrets, connection)
    await release_transaction(session)
    request = engine.RequestTemplate(method=body.method, path=body.path)
    answer = await engine.send(
        endpoint, request, dict(body.variables), allow_private=runtime.settings.allow_private_urls
    )
    return report(answer)


def present(runtime: Runtime, connection: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        name=connection.name,
        is_active=connection.is_active,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
        **endpoint_fields(runtime.secrets, connection),
    )


def _audit(
    session: AsyncSession, editor: Actor, action: str, connection: Connection, **details: object
) -> None:
    editor.record(
        session,
        action,
        target_type="connection",
        target_id=connection.id,
        details={"name": connection.name, "baseUrl": connection.base_url, **details},
    )
