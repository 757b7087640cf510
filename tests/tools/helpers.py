"""Building connections and tools through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.business_api import BusinessApi
from tests.fixtures.factories import Member


async def make_connection(
    client: httpx.AsyncClient, admin: Member, api: BusinessApi, **fields: Any
) -> dict[str, Any]:
    body = {"name": "Orders API", "baseUrl": f"{api.url}/v1", **fields}
    r = await client.post("/connections", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def order_tool(connection_id: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "name": "order_status",
        "description": "Look up an order",
        "parameters": {
            "type": "object",
            "properties": {"orderId": {"type": "string", "maxLength": 200}, "qty": {"type": "integer"}},
            "required": ["orderId"],
        },
        "connectionId": connection_id,
        "path": "/orders/{{params.orderId}}",
        **fields,
    }


async def make_tool(client: httpx.AsyncClient, admin: Member, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/tools", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data
