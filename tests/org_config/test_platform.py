from __future__ import annotations

from datetime import datetime, timedelta


async def test_platform_stats_are_public_and_cached(client, factory):
    first = await client.get("/config/platform-stats")
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    assert isinstance(data["organizations"], int) and isinstance(data["users"], int)
    await factory.org()
    second = (await client.get("/config/platform-stats")).json()["data"]
    first_at, second_at = (datetime.fromisoformat(d["generatedAt"]) for d in (data, second))
    # served from the one-minute cache, unless that minute ended between the two calls
    assert second == data or second_at - first_at >= timedelta(seconds=60)


async def test_server_config_is_for_the_super_admin(client, factory):
    org = await factory.org()
    assert (await client.get("/config")).status_code == 401
    assert (await client.get("/config", headers=org.admin.headers)).status_code == 403
    super_admin = await factory.super_admin()
    assert (await client.get("/config", headers=super_admin.headers)).status_code == 200
