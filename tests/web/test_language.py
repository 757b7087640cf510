"""The console's language is the person's: chosen once, it follows them to every browser."""

from __future__ import annotations

from cxinbox.models.identity import Role, User
from tests.web.helpers import browser, csrf_of, signed_in


async def test_the_chosen_language_follows_the_person(app, factory, runtime):
    org = await factory.org()
    agent = await factory.member(org.id, Role.AGENT)
    async with browser(app, language="en") as site:
        token = await signed_in(site, agent)
        r = await site.post("/language", data={"csrf": token, "language": "es", "next": "/inbox"})
        assert (r.status_code, r.headers["location"]) == (303, "/inbox")
        assert '<html lang="es">' in (await site.get("/inbox")).text
    async with runtime.read_session() as session:
        user = await session.get(User, agent.id)
        assert user is not None and user.language == "es"
    # another browser, which asks for English: the person's Spanish wins once they sign in
    async with browser(app, language="en") as other:
        assert '<html lang="en">' in (await other.get("/sign-in")).text
        await signed_in(other, agent)
        inbox = await other.get("/inbox")
        assert '<html lang="es">' in inbox.text and "Bandeja" in inbox.text
        r = await other.post(
            "/language", data={"csrf": csrf_of(inbox), "language": "en", "next": "//evil.test"}
        )
        assert (r.status_code, r.headers["location"]) == (303, "/")
        assert '<html lang="en">' in (await other.get("/inbox")).text


async def test_an_unknown_language_changes_nothing(app, factory, runtime):
    org = await factory.org()
    async with browser(app) as site:
        token = await signed_in(site, org.admin)
        r = await site.post("/language", data={"csrf": token, "language": "xx"})
        assert r.status_code == 303
    async with runtime.read_session() as session:
        user = await session.get(User, org.admin.id)
        assert user is not None and user.language is None
