from __future__ import annotations

import uuid

from tests.fixtures.audit import audit_entries

MISSING = "00000000-0000-7000-8000-000000000000"


async def _bulk(client, super_admin, action, selection):
    return await client.post(
        "/admin/organizations/bulk",
        json={"action": action, "selection": selection},
        headers=super_admin.headers,
    )


async def test_bulk_suspend_by_ids_blocks_users_then_activate_restores(client, factory, runtime, super_admin):
    a, b = await factory.org(), await factory.org()
    r = await _bulk(client, super_admin, "suspend", {"mode": "ids", "ids": [a.id, b.id, MISSING]})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["requested"] == 3 and data["succeeded"] == 2
    assert set(data["succeededIds"]) == {a.id, b.id}
    assert data["failed"] == [{"id": MISSING, "code": "NOT_FOUND", "message": "Organization not found"}]
    for org in (a, b):
        r = await client.get("/auth/me", headers=org.admin.headers)
        assert r.json()["error"]["code"] == "ORGANIZATION_SUSPENDED"
    [entry] = await audit_entries(runtime, a.id, "admin.organization_updated")
    assert entry.details["bulkAction"] == "suspend" and entry.ip

    r = await _bulk(client, super_admin, "activate", {"mode": "ids", "ids": [a.id]})
    assert r.json()["data"]["succeeded"] == 1
    assert (await client.get("/auth/me", headers=a.admin.headers)).status_code == 200
    assert (await client.get("/auth/me", headers=b.admin.headers)).status_code == 403


async def test_bulk_cancel_by_filter(client, super_admin):
    word = uuid.uuid4().hex[:10]
    ids = []
    for n in range(2):
        body = {"name": f"Bulk {word} {n}", "adminEmail": f"{word}-{n}@example.com", "adminName": "A"}
        r = await client.post("/admin/organizations", json=body, headers=super_admin.headers)
        ids.append(r.json()["data"]["id"])
    r = await _bulk(
        client, super_admin, "cancel", {"mode": "filter", "filter": {"search": word, "status": "ACTIVE"}}
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["data"]["succeededIds"]) == sorted(ids)
    listed = await client.get("/admin/organizations", params={"search": word}, headers=super_admin.headers)
    assert {o["status"] for o in listed.json()["data"]} == {"CANCELLED"}


async def test_bulk_validation(client, factory, super_admin):
    org = await factory.org()
    for action, selection in (
        ("delete", {"mode": "ids", "ids": [org.id]}),
        ("suspend", {"mode": "ids"}),
        ("suspend", {"mode": "everything"}),
        ("suspend", {"mode": "filter", "filter": {"plan": "GOLD"}}),
    ):
        r = await _bulk(client, super_admin, action, selection)
        assert r.status_code == 400, (action, selection, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await _bulk(client, super_admin, "suspend", {"mode": "filter", "filter": {"plan": "GOLD"}})
    assert r.json()["error"]["details"][0]["field"] == "selection.filter.plan"
