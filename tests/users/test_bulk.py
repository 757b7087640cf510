from cxinbox.models.identity import Plan, Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.people import error_code


def _ids(action, ids, **extra):
    return {"action": action, "selection": {"mode": "ids", "ids": ids}, **extra}


async def test_bulk_by_ids_reports_each_failure(client, factory, runtime):
    org, other = await factory.org(plan=Plan.ENTERPRISE), await factory.org()
    a, b = await factory.member(org.id, Role.AGENT), await factory.member(org.id, Role.AGENT)
    ids = [a.id, b.id, org.admin.id, other.admin.id]
    r = await client.post("/users/bulk", json=_ids("deactivate", ids), headers=org.admin.headers)
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert (result["requested"], result["succeeded"], result["succeededIds"]) == (4, 2, [a.id, b.id])
    failures = {f["id"]: f["code"] for f in result["failed"]}
    assert failures == {org.admin.id: "CANNOT_MODIFY_SELF", other.admin.id: "NOT_FOUND"}
    assert all(f["message"] for f in result["failed"])
    assert (await client.post("/auth/refresh", json={"refreshToken": a.refresh_token})).status_code == 401
    [entry] = await audit_entries(runtime, org.id, "user.bulk_deactivate")
    assert entry.details["succeeded"] == [a.id, b.id] and entry.ip


async def test_bulk_by_filter(client, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agents = [await factory.member(org.id, Role.AGENT) for _ in range(2)]
    body = {
        "action": "setRole",
        "role": "SUPERVISOR",
        "selection": {"mode": "filter", "filter": {"role": "AGENT"}},
    }
    r = await client.post("/users/bulk", json=body, headers=org.admin.headers)
    assert r.json()["data"]["succeeded"] == 2
    listed = await client.get("/users", params={"role": "SUPERVISOR"}, headers=org.admin.headers)
    assert {u["id"] for u in listed.json()["data"]} == {a.id for a in agents}


async def test_bulk_delete(client, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post("/users/bulk", json=_ids("delete", [agent.id]), headers=org.admin.headers)
    assert r.json()["data"]["succeeded"] == 1
    assert await audit_entries(runtime, org.id, "user.deleted")
    listed = await client.get("/users", headers=org.admin.headers)
    assert agent.id not in {u["id"] for u in listed.json()["data"]}


async def test_bulk_rejections(client, factory):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    r = await client.post(
        "/users/bulk", json={"action": "delete", "selection": {"mode": "ids"}}, headers=org.admin.headers
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = await client.post("/users/bulk", json=_ids("explode", [agent.id]), headers=org.admin.headers)
    assert r.status_code == 400
    r = await client.post("/users/bulk", json=_ids("setRole", [agent.id]), headers=org.admin.headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "role"
    body = {"action": "delete", "selection": {"mode": "filter", "filter": {"role": "BOSS"}}}
    assert (await client.post("/users/bulk", json=body, headers=org.admin.headers)).status_code == 400
    assert (await client.post("/users/bulk", json=_ids("delete", [agent.id]))).status_code == 401
    r = await client.post("/users/bulk", json=_ids("delete", [org.admin.id]), headers=agent.headers)
    assert r.status_code == 403
