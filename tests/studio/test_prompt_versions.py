"""/bot-config/prompt-versions: a numbered version for every change of the system prompt (create,
edit, duplicate, import, restore, rollback), with author and time; rollback is itself a version."""

from __future__ import annotations

from tests.fixtures.people import error_code
from tests.studio.conftest import as_json, import_file, minimal_bundle, set_prompt


async def _versions(client, headers, config_id=None):
    query = f"?botConfigId={config_id}" if config_id else ""
    r = await client.get(f"/bot-config/prompt-versions{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_every_prompt_change_is_a_version_and_rollback_adds_one(client, factory):
    org = await factory.org()
    h = org.admin.headers
    config = await set_prompt(client, h, "Uno")
    await set_prompt(client, h, "Uno")  # unchanged: no version
    await set_prompt(client, h, "Dos", temperature=0.2)
    await set_prompt(client, h, "Dos", model="gpt-4.1")  # other fields only
    await set_prompt(client, h, "Tres")
    versions = await _versions(client, h)
    assert [(v["number"], v["systemPrompt"], v["isCurrent"]) for v in versions] == [
        (3, "Tres", True),
        (2, "Dos", False),
        (1, "Uno", False),
    ]
    assert {v["authorId"] for v in versions} == {org.admin.id} and versions[0]["createdAt"]
    assert {v["botConfigId"] for v in versions} == {config["id"]} and {v["source"] for v in versions} == {
        "EDIT"
    }
    first = versions[-1]
    r = await client.post(f"/bot-config/prompt-versions/{first['id']}/activate", headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["number"], r.json()["data"]["source"]) == (4, "ROLLBACK")
    assert (await client.get("/bot-config", headers=h)).json()["data"]["systemPrompt"] == "Uno"
    # rolling back to the current text is still a recorded choice
    r = await client.post(f"/bot-config/prompt-versions/{first['id']}/activate", headers=h)
    assert r.json()["data"]["number"] == 5
    assert [v["number"] for v in await _versions(client, h)] == [5, 4, 3, 2, 1]


async def test_drafts_have_their_own_numbering(client, factory):
    org = await factory.org()
    h = org.admin.headers
    await set_prompt(client, h, "Activo")
    r = await client.post("/bot-config", json={"name": "Borrador", "systemPrompt": "Primero"}, headers=h)
    draft = r.json()["data"]
    await set_prompt(client, h, "Segundo", id=draft["id"])
    assert [v["number"] for v in await _versions(client, h, draft["id"])] == [2, 1]
    assert [v["systemPrompt"] for v in await _versions(client, h)] == ["Activo"]
    r = await client.post(f"/bot-config/{draft['id']}/duplicate", json={}, headers=h)
    copy = r.json()["data"]
    assert [v["systemPrompt"] for v in await _versions(client, h, copy["id"])] == ["Segundo"]


async def test_an_import_is_a_version(client, factory):
    org = await factory.org()
    h = org.admin.headers
    r = await import_file(client, h, as_json(minimal_bundle()))
    assert r.status_code == 201, r.text
    [version] = await _versions(client, h, r.json()["data"]["id"])
    assert (version["number"], version["source"], version["systemPrompt"]) == (1, "IMPORT", "Hola")


async def test_without_an_active_config_the_history_is_409_and_unknown_versions_404(client, factory):
    org = await factory.org()
    r = await client.get("/bot-config/prompt-versions", headers=org.admin.headers)
    assert r.status_code == 409 and error_code(r) == "BOT_NOT_AVAILABLE"
    r = await client.post("/bot-config/prompt-versions/nope/activate", headers=org.admin.headers)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.get("/bot-config/prompt-versions?botConfigId=" + "x" * 37, headers=org.admin.headers)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


async def test_another_organizations_versions_are_not_found(client, factory):
    owner, stranger = await factory.org(), await factory.org()
    config = await set_prompt(client, owner.admin.headers, "Secreto")
    [version] = await _versions(client, owner.admin.headers)
    h = stranger.admin.headers
    r = await client.post(f"/bot-config/prompt-versions/{version['id']}/activate", headers=h)
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.get(f"/bot-config/prompt-versions?botConfigId={config['id']}", headers=h)
    assert r.status_code == 404 and "Secreto" not in r.text
    assert [v["number"] for v in await _versions(client, owner.admin.headers)] == [1]
