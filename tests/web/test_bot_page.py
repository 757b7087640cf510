"""The bot page: the active config with its key masked, editing it, intents, and the sandbox chat,
over HTTP through the console's forms."""

from __future__ import annotations

import html
import uuid

from cxinbox.models.identity import Role
from tests.fakes.llm import Reply
from tests.web.helpers import browser, csrf_of, signed_in

HOSTILE = '<script>alert("x")</script>'


async def _config(client, llm, headers, *replies: Reply) -> str:
    """The organization's active config on the fake LLM; its key."""
    key = f"sk-test-{uuid.uuid4().hex}"
    llm.script(key, *replies)
    body = {"provider": "OPENAI", "model": "gpt-4o-mini", "apiKey": key, "baseUrl": llm.base("openai")}
    r = await client.put("/bot-config", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return key


async def test_the_admin_sees_the_config_with_its_key_masked_and_edits_it(app, client, factory, llm):
    org = await factory.org()
    key = await _config(client, llm, org.admin.headers)
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        page = await site.get("/bot")
        assert page.status_code == 200 and "gpt-4o-mini" in page.text
        assert key[-4:] in page.text and key not in page.text
        r = await site.post(
            "/bot",
            data={"csrf": csrf, "system_prompt": HOSTILE, "model": "gpt-4o", "temperature": "0.3"},
        )
        assert r.status_code == 303 and r.headers["location"] == "/bot?done=bot_saved"
        page = await site.get(r.headers["location"])
        assert "Configuration saved." in page.text and HOSTILE not in page.text
        assert html.escape(HOSTILE, quote=False) in page.text or "&lt;script&gt;" in page.text
        r = await site.post("/bot", data={"csrf": csrf, "system_prompt": "x", "temperature": "hot"})
        assert r.status_code == 400 and "Check the form" in r.text
    config = (await client.get("/bot-config", headers=org.admin.headers)).json()["data"]
    assert (config["model"], config["temperature"], config["systemPrompt"]) == ("gpt-4o", 0.3, HOSTILE)


async def test_intents_are_added_and_removed_and_another_organizations_is_not_found(
    app, client, factory, llm
):
    org, other = await factory.org(), await factory.org()
    await _config(client, llm, org.admin.headers)
    await _config(client, llm, other.admin.headers)
    r = await client.post(
        "/bot-config/intents", json={"name": "theirs", "response": "x"}, headers=other.admin.headers
    )
    theirs = r.json()["data"]["id"]
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post(
            "/bot/intents",
            data={"csrf": csrf, "name": HOSTILE, "examples": "hola\nbuenas", "response": "¡Hola!"},
        )
        assert r.status_code == 303, r.text
        page = await site.get("/bot")
        assert HOSTILE not in page.text and "&lt;script&gt;" in page.text and "hola · buenas" in page.text
        r = await site.post("/bot/intents", data={"csrf": csrf, "name": ""})
        assert r.status_code == 400 and "Check the form" in r.text
        r = await site.post(f"/bot/intents/{theirs}/delete", data={"csrf": csrf})
        assert r.status_code == 404
        mine = (await client.get("/bot-config/intents", headers=org.admin.headers)).json()["data"]
        r = await site.post(f"/bot/intents/{mine[0]['id']}/delete", data={"csrf": csrf})
        assert r.status_code == 303 and "Intent removed." in (await site.get(r.headers["location"])).text
    assert (await client.get("/bot-config/intents", headers=org.admin.headers)).json()["data"] == []
    assert len((await client.get("/bot-config/intents", headers=other.admin.headers)).json()["data"]) == 1


async def test_the_sandbox_shows_the_reply_its_actions_and_the_handoff(app, client, factory, llm):
    org = await factory.org()
    await _config(
        client,
        llm,
        org.admin.headers,
        Reply(f"Cuesta 20 USD {HOSTILE}"),
        Reply("", tool_call=("handoff_to_human", {"reason": "quiere un humano", "summary": "precio"})),
    )
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post("/bot/sandbox", data={"csrf": csrf, "message": "¿Cuánto cuesta?"})
        assert r.status_code == 200 and "Cuesta 20 USD" in r.text and HOSTILE not in r.text
        assert "handed the conversation" not in r.text
        r = await site.post(
            "/bot/sandbox",
            data={
                "csrf": csrf_of(r),
                "message": "No me convence, ¿qué más hay?",
                "session_id": _session(r.text),
            },
        )
        assert r.status_code == 200 and "handed the conversation to a person" in r.text
        assert "HANDOFF: handoff_to_human — quiere un humano" in r.text
        r = await site.post("/bot/sandbox", data={"csrf": csrf, "message": "  "})
        assert r.status_code == 400 and "Check the form" in r.text


def _session(page: str) -> str:
    start = page.index('name="session_id" value="') + len('name="session_id" value="')
    return page[start : page.index('"', start)]


async def test_without_a_config_the_page_says_so_and_the_sandbox_answers_the_apis_error(app, factory):
    org = await factory.org()
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        page = await site.get("/bot")
        assert page.status_code == 200 and "no active configuration" in page.text
        r = await site.post("/bot/sandbox", data={"csrf": csrf, "message": "hola"})
        assert r.status_code == 409 and "That did not work" in r.text


async def test_a_supervisor_reads_without_forms_and_an_agent_is_refused(app, client, factory, llm):
    org = await factory.org()
    await _config(client, llm, org.admin.headers)
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    agent = await factory.member(org.id, Role.AGENT)
    async with browser(app) as site:
        csrf = await signed_in(site, supervisor)
        page = await site.get("/bot")
        assert page.status_code == 200 and "gpt-4o-mini" in page.text
        assert 'action="/bot' not in page.text and 'href="/bot"' in page.text
        for path, data in (
            ("/bot", {"model": "x"}),
            ("/bot/intents", {"name": "x"}),
            ("/bot/sandbox", {"message": "x"}),
        ):
            r = await site.post(path, data={"csrf": csrf, **data})
            assert r.status_code == 403 and "does not allow" in r.text
    async with browser(app) as site:
        await signed_in(site, agent)
        page = await site.get("/inbox")
        assert 'href="/bot"' not in page.text
        assert (await site.get("/bot")).status_code == 403


async def test_prompt_versions_are_listed_shown_and_rolled_back(app, client, factory, llm):
    org, other = await factory.org(), await factory.org()
    await _config(client, llm, org.admin.headers)
    await _config(client, llm, other.admin.headers)
    for text in ("First prompt", "Second prompt"):
        r = await client.put("/bot-config", json={"systemPrompt": text}, headers=org.admin.headers)
        assert r.status_code == 200, r.text
    await client.put("/bot-config", json={"systemPrompt": "Theirs"}, headers=other.admin.headers)
    versions = (await client.get("/bot-config/prompt-versions", headers=org.admin.headers)).json()["data"]
    first = next(v for v in versions if v["systemPrompt"] == "First prompt")
    theirs = (await client.get("/bot-config/prompt-versions", headers=other.admin.headers)).json()["data"][0]
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        page = await site.get("/bot")
        assert "Prompt versions" in page.text and "First prompt" in page.text and "(current)" in page.text
        assert f"/bot/prompt-versions/{first['id']}/activate" in page.text
        r = await site.post(f"/bot/prompt-versions/{first['id']}/activate", data={"csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/bot?done=prompt_rolled_back"
        assert "A rollback" in (await site.get(r.headers["location"])).text
        r = await site.post(f"/bot/prompt-versions/{theirs['id']}/activate", data={"csrf": csrf})
        assert r.status_code == 404
        r = await site.post(f"/bot/prompt-versions/{first['id']}/activate", data={})
        assert r.status_code == 403
    config = (await client.get("/bot-config", headers=org.admin.headers)).json()["data"]
    assert config["systemPrompt"] == "First prompt"
    assert (await client.get("/bot-config", headers=other.admin.headers)).json()["data"][
        "systemPrompt"
    ] == "Theirs"
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    async with browser(app, language="es") as site:
        csrf = await signed_in(site, supervisor)
        page = await site.get("/bot")
        assert "Versiones del prompt" in page.text and "/activate" not in page.text
        r = await site.post(f"/bot/prompt-versions/{first['id']}/activate", data={"csrf": csrf})
        assert r.status_code == 403
