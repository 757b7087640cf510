"""Bot templates: the super admin publishes an organization's config (or writes one), slugs are
unique, organizations see only published ones and import one as a draft."""

from __future__ import annotations

import pytest

from tests.fixtures.people import error_code
from tests.studio.conftest import minimal_bundle, set_prompt


async def test_publish_from_one_organization_and_import_in_another(client, factory):
    platform = await factory.super_admin()
    source, target = await factory.org(), await factory.org()
    await set_prompt(
        client, source.admin.headers, "Eres un bot de soporte.", apiKey="sk-PLANTED-template-key"
    )
    await client.post(
        "/bot-config/intents", json={"name": "Hola", "response": "¡Hola!"}, headers=source.admin.headers
    )
    body = {"orgId": source.id, "name": "Soporte", "slug": "soporte"}
    r = await client.post("/admin/bot-templates/from-config", json=body, headers=platform.headers)
    assert r.status_code == 201, r.text
    template = r.json()["data"]
    assert (template["slug"], template["isPublished"]) == ("soporte", False)
    assert (await client.get("/bot-templates", headers=target.admin.headers)).json()["data"] == []
    r = await client.post(f"/bot-templates/import/{template['id']}", headers=target.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.put(
        f"/admin/bot-templates/{template['id']}", json={"isPublished": True}, headers=platform.headers
    )
    assert r.status_code == 200 and r.json()["data"]["isPublished"]
    listed = (await client.get("/bot-templates", headers=target.admin.headers)).json()["data"]
    assert [t["slug"] for t in listed] == ["soporte"]
    r = await client.post(f"/bot-templates/import/{template['id']}", headers=target.admin.headers)
    assert r.status_code == 201, r.text
    draft = r.json()["data"]
    assert draft["name"] == "Bot (draft)" and not draft["isActive"] and draft["apiKey"] is None
    assert draft["systemPrompt"] == "Eres un bot de soporte."
    intents = await client.get(f"/bot-config/intents?botConfigId={draft['id']}", headers=target.admin.headers)
    assert [i["name"] for i in intents.json()["data"]] == ["Hola"]
    r = await client.get("/admin/bot-templates", headers=platform.headers)
    assert "sk-PLANTED-template-key" not in r.text


async def test_create_update_delete_and_unique_slugs(client, factory):
    platform = await factory.super_admin()
    h = platform.headers
    bundle = minimal_bundle(
        promptHistory=[
            {"number": 1, "systemPrompt": "x", "source": "EDIT", "createdAt": "2026-01-01T00:00:00Z"}
        ]
    )
    r = await client.post(
        "/admin/bot-templates", json={"name": "Ventas", "slug": "ventas", "bundle": bundle}, headers=h
    )
    assert r.status_code == 201, r.text
    template = r.json()["data"]
    r = await client.post(
        "/admin/bot-templates", json={"name": "Otra", "slug": "ventas", "bundle": bundle}, headers=h
    )
    assert r.status_code == 409 and error_code(r) == "SLUG_TAKEN"
    other = await client.post(
        "/admin/bot-templates", json={"name": "B", "slug": "b", "bundle": bundle}, headers=h
    )
    r = await client.put(
        f"/admin/bot-templates/{other.json()['data']['id']}", json={"slug": "ventas"}, headers=h
    )
    assert r.status_code == 409
    r = await client.put(
        f"/admin/bot-templates/{template['id']}", json={"name": "Ventas 2", "slug": "ventas"}, headers=h
    )
    assert r.status_code == 200 and r.json()["data"]["name"] == "Ventas 2"
    listed = (await client.get("/admin/bot-templates", headers=h)).json()["data"]
    assert {t["slug"] for t in listed} >= {"ventas", "b"}
    r = await client.delete(f"/admin/bot-templates/{template['id']}", headers=h)
    assert r.status_code == 200 and r.json()["data"]["deleted"]
    r = await client.delete(f"/admin/bot-templates/{template['id']}", headers=h)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body, code",
    [
        ({"name": "x", "slug": "Not A Slug", "bundle": minimal_bundle()}, "VALIDATION_ERROR"),
        ({"name": "x", "slug": "ok"}, "VALIDATION_ERROR"),
        ({"name": "x", "slug": "ok2", "bundle": {"format": "nope"}}, "INVALID_BUNDLE"),
        ({"name": "x", "slug": "ok3", "bundle": minimal_bundle(intents=[{"name": ""}])}, "INVALID_BUNDLE"),
    ],
)
async def test_invalid_templates(client, factory, body, code):
    platform = await factory.super_admin()
    r = await client.post("/admin/bot-templates", json=body, headers=platform.headers)
    assert r.status_code == 400 and error_code(r) == code, r.text


async def test_from_config_needs_an_organization_with_an_active_config(client, factory):
    platform = await factory.super_admin()
    org = await factory.org()
    for org_id in ("no-such-org", org.id):
        body = {"orgId": org_id, "name": "x", "slug": f"s-{org_id[:8].lower().replace('-', '')}"}
        r = await client.post("/admin/bot-templates/from-config", json=body, headers=platform.headers)
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND", r.text


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/admin/bot-templates"),
        ("POST", "/admin/bot-templates"),
        ("POST", "/admin/bot-templates/from-config"),
        ("PUT", "/admin/bot-templates/x"),
        ("DELETE", "/admin/bot-templates/x"),
    ],
)
async def test_the_admin_side_is_for_super_admins_only(client, factory, method, path):
    org = await factory.org()
    assert (await client.request(method, path, json={})).status_code == 401
    r = await client.request(method, path, json={}, headers=org.admin.headers)
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
