"""An access token that cannot travel in an HTTP header is refused as bad input (it was a 500: the
Graph client failed to encode the ``Authorization`` header)."""

from __future__ import annotations

import pytest

from tests.fixtures.errors import bad_fields
from tests.fixtures.whatsapp import connect_number, unique_number

NOT_HEADER_SAFE = ["tokén", "token with spaces", "token\u0000", "\U0001f600"]


@pytest.mark.parametrize("token", NOT_HEADER_SAFE)
async def test_connect_manual_refuses_a_token_that_is_not_visible_ascii(client, factory, token):
    org = await factory.org()
    body = {"wabaId": unique_number(), "phoneNumberId": unique_number(), "accessToken": token}
    r = await client.post("/whatsapp-accounts/connect-manual", json=body, headers=org.admin.headers)
    assert bad_fields(r) == {"accessToken"}


async def test_a_new_token_for_a_connected_number_must_be_visible_ascii_too(client, factory, graph, runtime):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    url = f"/whatsapp-accounts/{account.id}"
    r = await client.patch(url, json={"accessToken": "tokén"}, headers=org.admin.headers)
    assert bad_fields(r) == {"accessToken"}
