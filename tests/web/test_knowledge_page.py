"""The knowledge page: documents with their status, uploading and deleting one, and the test search
showing the chunks found with their document and page, over HTTP through the console's forms."""

from __future__ import annotations

from cxinbox.models.identity import Role
from tests.knowledge.documents import ingested, pdf, settled
from tests.web.helpers import browser, signed_in

HOSTILE = '<img src=x onerror="alert(1)">'


async def test_the_admin_uploads_a_document_searches_it_and_deletes_it(app, client, factory):
    org = await factory.org()
    h = org.admin.headers
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        data = pdf(["Horario de tienda.", "Los envíos a Monterrey tardan tres días hábiles."])
        r = await site.post(
            "/knowledge/documents",
            data={"csrf": csrf, "title": HOSTILE},
            files={"file": ("envios.pdf", data, "application/pdf")},
        )
        assert r.status_code == 303 and r.headers["location"] == "/knowledge?done=document_uploaded", r.text
        documents = (await client.get("/bot-config/documents", headers=h)).json()["data"]
        assert [d["title"] for d in documents] == [HOSTILE]
        assert (await settled(client, h, documents[0]["id"]))["status"] == "READY"
        page = await site.get("/knowledge")
        assert page.status_code == 200 and "Ready" in page.text and "envios.pdf" in page.text
        assert HOSTILE not in page.text and "&lt;img src=x" in page.text
        r = await site.post(
            "/knowledge/search", data={"csrf": csrf, "query": "¿Cuánto tardan los envíos a Monterrey?"}
        )
        assert r.status_code == 200 and "tres días hábiles" in r.text and "page 2" in r.text
        r = await site.post(f"/knowledge/documents/{documents[0]['id']}/delete", data={"csrf": csrf})
        assert r.status_code == 303 and "Document deleted." in (await site.get(r.headers["location"])).text
    assert (await client.get("/bot-config/documents", headers=h)).json()["data"] == []


async def test_bad_input_is_a_message_and_another_organizations_document_is_not_found(app, client, factory):
    org, other = await factory.org(), await factory.org()
    theirs = await ingested(client, other.admin.headers, "theirs.txt", b"Secret price list: 99 USD.")
    async with browser(app) as site:
        csrf = await signed_in(site, org.admin)
        r = await site.post(
            "/knowledge/documents",
            data={"csrf": csrf},
            files={"file": ("x.exe", b"MZ\x90\x00\x03binary", "application/octet-stream")},
        )
        assert r.status_code == 415 and "That did not work" in r.text
        r = await site.post("/knowledge/documents", data={"csrf": csrf})
        assert r.status_code == 400 and "Check the form" in r.text
        r = await site.post("/knowledge/search", data={"csrf": csrf, "query": "   "})
        assert r.status_code == 400 and "Check the form" in r.text
        r = await site.post(f"/knowledge/documents/{theirs['id']}/delete", data={"csrf": csrf})
        assert r.status_code == 404
        r = await site.post("/knowledge/search", data={"csrf": csrf, "query": "secret price list"})
        assert (
            r.status_code == 200 and "99 USD" not in r.text and "Nothing in the documents matches" in r.text
        )
    assert len((await client.get("/bot-config/documents", headers=other.admin.headers)).json()["data"]) == 1


async def test_a_supervisor_reads_without_forms_and_an_agent_is_refused(app, client, factory):
    org = await factory.org()
    await ingested(client, org.admin.headers, "faq.txt", b"Abrimos de 9 a 18.")
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    agent = await factory.member(org.id, Role.AGENT)
    async with browser(app) as site:
        csrf = await signed_in(site, supervisor)
        page = await site.get("/knowledge")
        assert page.status_code == 200 and "faq.txt" in page.text and 'action="/knowledge' not in page.text
        r = await site.post("/knowledge/search", data={"csrf": csrf, "query": "horario"})
        assert r.status_code == 403 and "does not allow" in r.text
        r = await site.post(
            "/knowledge/documents", data={"csrf": csrf}, files={"file": ("a.txt", b"hola", "text/plain")}
        )
        assert r.status_code == 403
    async with browser(app) as site:
        await signed_in(site, agent)
        assert (await site.get("/knowledge")).status_code == 403
