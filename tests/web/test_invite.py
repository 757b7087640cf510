"""``/invite/{token}``: the page an invitation email links to. The invitee sets a name and a
password and lands signed in; a link that cannot be used says so."""

from __future__ import annotations

from sqlalchemy import update

from cxinbox.models.identity import Organization, Plan
from tests.fixtures.factories import unique_email
from tests.fixtures.people import invite_token
from tests.web.helpers import browser, csrf_of

PASSWORD = "a-brand-new-password"
HOSTILE = '<script>alert("x")</script>'


async def invited(client, smtp, org, **body) -> tuple[str, str]:
    email = unique_email("invitee")
    r = await client.post("/invitations", json={"email": email, **body}, headers=org.admin.headers)
    assert r.status_code == 201, r.text
    return email, await invite_token(smtp, email)


async def test_the_emailed_link_opens_a_page_that_accepts_and_signs_in(client, app, smtp, factory, runtime):
    org = await factory.org(plan=Plan.ENTERPRISE)
    async with runtime.unit_of_work() as session:
        await session.execute(update(Organization).where(Organization.id == org.id).values(name=HOSTILE))
    email, token = await invited(client, smtp, org, name="Ines")
    [mail] = smtp.messages_to(email)
    assert f"http://cxinbox.test/invite/{token}" in smtp.body(mail)  # CXINBOX_PUBLIC_URL of the suite

    async with browser(app) as site:
        page = await site.get(f"/invite/{token}")
        assert page.status_code == 200, page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert (page.headers["referrer-policy"], page.headers["x-frame-options"]) == ("no-referrer", "DENY")
        assert email in page.text and 'value="Ines"' in page.text
        assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
        assert (
            await site.post(f"/invite/{token}", data={"name": "X", "password": PASSWORD})
        ).status_code == 403

        r = await site.post(
            f"/invite/{token}", data={"name": "Ines Costa", "password": PASSWORD, "csrf": csrf_of(page)}
        )
        assert (r.status_code, r.headers["location"]) == (303, "/inbox"), r.text
        inbox = await site.get("/inbox")
        assert inbox.status_code == 200 and "Ines Costa" in inbox.text
        again = await site.get(f"/invite/{token}")
        assert again.status_code == 410 and "no longer be used" in again.text
    login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["data"]["user"]["name"] == "Ines Costa"


async def test_an_unknown_link_is_a_404_page(site):
    token = csrf_of(await site.get("/sign-in"))
    for r in (
        await site.get("/invite/no-such-token"),
        await site.post("/invite/no-such-token", data={"csrf": token}),
    ):
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "does not exist" in r.text
    assert (await site.get("/invite/" + "x" * 201)).status_code in (400, 404, 422)


async def test_a_bad_form_shows_why_and_keeps_the_invitation(client, site, smtp, factory):
    org = await factory.org(plan=Plan.ENTERPRISE)
    email, token = await invited(client, smtp, org)
    token_csrf = csrf_of(await site.get(f"/invite/{token}"))
    r = await site.post(f"/invite/{token}", data={"name": HOSTILE, "password": "short", "csrf": token_csrf})
    assert r.status_code == 400 and "at least 8 characters" in r.text
    assert HOSTILE not in r.text and "&lt;script&gt;" in r.text
    r = await site.post(f"/invite/{token}", data={"password": PASSWORD, "csrf": token_csrf})
    assert r.status_code == 400 and "cx_access" not in site.cookies
    assert (await site.get(f"/invite/{token}")).status_code == 200
    assert (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 401
