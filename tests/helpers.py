"""Assertions shared by the suites."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from cxinbox.app import API_PREFIX
from cxinbox.models.base import Base
from cxinbox.runtime import Runtime


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the contract's error envelope with ``status`` and ``code``; return it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    assert "Traceback" not in response.text
    return error


def bad_fields(response: httpx.Response) -> set[str]:
    """The field names a 400 VALIDATION_ERROR names in its details."""
    error = error_of(response, 400, "VALIDATION_ERROR")
    return {d["field"] for d in error["details"]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def update_rows(runtime: Runtime, model: type[Base], *where: Any, **values: Any) -> None:
    """Change rows behind the API's back (deactivate a user, age a code, suspend an organization)."""
    async with runtime.unit_of_work() as session:
        await session.execute(update(model).where(*where).values(**values))


async def create_api_key(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Create an API key through the API; the answer's ``data`` (with the full ``key``)."""
    r = await client.post("/api-keys", json={"name": "integration", **body}, headers=headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


@asynccontextmanager
async def api_client(application: FastAPI, **transport_options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``application``'s ``/api/v1`` (``client=(ip, port)`` fixes the caller's address)."""
    transport = httpx.ASGITransport(app=application, **transport_options)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://test{API_PREFIX}") as c:
        yield c


@asynccontextmanager
async def running(application: FastAPI, **transport_options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Start an app built in a test (its lifespan runs) and give a client on it."""
    async with (
        application.router.lifespan_context(application),
        api_client(application, **transport_options) as c,
    ):
        yield c
