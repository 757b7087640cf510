"""``/invite/{token}``: the page an invitation email links to, served by the API itself."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from cxinbox.models.identity import Organization, Plan
from tests.fixtures.factories import unique_email
from tests.fixtures.people import invite_token

PASSWORD = "a-brand-new-password"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
async def site(app):
    """A client at the site's root (the API client's base is ``/api/v1``)."""
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def invited(client, smtp, org, **body) -> tuple[str, str]:
    email = unique_email("invitee")
    r = await client.post("/invitations", json={"email": email, **body}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    return email, await invite_token(smtp, email)


async def test_the_emailed_link_opens_a_page_that_accepts(client, site, smtp, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    async with runtime.unit_of_work() as session:
        await session.execute(update(Organization).where(Organization.id == org.id).values(name=HOSTILE))
    email, token = await invited(client, smtp, org, name="Ines")
    [mail] = smtp.messages_to(email)
    assert f"http://cxinbox.test/invite/{token}" in smtp.body(mail)  # CXINBOX_PUBLIC_URL of the suite

    page = await site.get(f"/invite/{token}")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "script-src" not in policy
    assert (page.headers["referrer-policy"], page.headers["x-frame-options"]) == ("no-referrer", "DENY")
    assert email in page.text and 'value="Ines"' in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    assert "<script" not in page.text

    r = await site.post(f"/invite/{token}", data={"name": "Ines Costa", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert "Welcome" in r.text and email in r.text
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["data"]["user"]["name"] == "Ines Costa"

    for again in (await site.get(f"/invite/{token}"), await site.post(f"/invite/{token}", data={})):
        assert again.status_code == 410 and "already accepted" in again.text


async def test_an_unknown_link_is_a_404_page(site):
    for r in (await site.get("/invite/no-such-token"), await site.post("/invite/no-such-token", data={})):
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "cannot be used" in r.text
    assert (await site.get("/invite/" + "x" * 201)).status_code in (400, 404, 422)


async def test_a_bad_form_shows_why_and_keeps_the_invitation(client, site, smtp, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    email, token = await invited(client, smtp, org)
    r = await site.post(f"/invite/{token}", data={"name": HOSTILE, "password": "short"})
    assert r.status_code == 400
    assert "Password: String should have at least 8 characters" in r.text
    assert HOSTILE not in r.text and "&lt;script&gt;" in r.text
    r = await site.post(f"/invite/{token}", data={"password": PASSWORD})
    assert r.status_code == 400 and "Your name" in r.text
    assert (await site.get(f"/invite/{token}")).status_code == 200
    assert (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 401
