"""The campaigns pages: the admin creates a campaign from a CSV file of recipients through the form
(sent by the dispatcher to the fake Graph API), sees its progress and statistics, pauses, resumes
and cancels a scheduled one; bad input, roles and another organization's campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxinbox.core.clock import utcnow
from tests.campaigns.helpers import VALUES, create, phones, sends_per_number, template, until
from tests.fixtures.inbox import make_inbox
from tests.web.helpers import browser, signed_in


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


def _form(csrf: str, template_id: str, **more: str) -> dict[str, str]:
    return {"csrf": csrf, "name": "Shipping", "template_id": template_id, "values": "customer\nA-1", **more}


async def test_the_admin_creates_a_campaign_from_a_csv_and_follows_it(app, inbox, client, runtime, graph):
    template_id = await template(inbox, client, runtime)
    numbers = phones(3)
    csv_text = "phone,name,value1,value2\n" + "\n".join(
        [f"{numbers[0]},Ana,Ana,A-100", f"{numbers[1]},,,", f"{numbers[2]},=HYPERLINK(1),,", "12,bad,,"]
    )
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.admin)
        page = await site.get("/campaigns")
        assert page.status_code == 200 and "No campaigns yet." in page.text and 'type="file"' in page.text
        r = await site.post(
            "/campaigns",
            data=_form(csrf, template_id),
            files={"recipients": ("people.csv", csv_text.encode(), "text/csv")},
        )
        assert r.status_code == 303 and "?done=campaign_created" in r.headers["location"], r.text
        campaign_id = r.headers["location"].split("/")[2].split("?")[0]
        done = await until(
            client, inbox.admin, campaign_id, "completed", lambda c: c["status"] == "COMPLETED"
        )
        assert done["counts"]["total"] == 3 and done["counts"]["sent"] == 3
        page = await site.get(f"/campaigns/{campaign_id}")
        assert page.status_code == 200 and "Completed" in page.text and "3 / 3" in page.text
        assert "Ana" in page.text and 'sse-connect="/stream"' in page.text
        part = await site.get(f"/campaigns/{campaign_id}/progress")
        assert part.status_code == 200 and 'id="campaign-progress"' in part.text and "<html" not in part.text
        listed = await site.get("/campaigns")
        assert "Shipping" in listed.text and "Completed" in listed.text
    assert sends_per_number(graph, inbox.account) == {n.lstrip("+"): 1 for n in numbers}
    sent = next(s for s in graph.sent_by(inbox.account.phone_number_id) if s["to"] == numbers[0].lstrip("+"))
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Ana", "A-100"]


async def test_pause_resume_and_cancel_a_scheduled_campaign(app, inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    later = (utcnow() + timedelta(hours=1)).isoformat()
    created = await create(client, inbox.admin, template_id, phones(2), scheduledAt=later)
    async with browser(app, language="es") as site:
        csrf = await signed_in(site, inbox.admin)
        page = await site.get(f"/campaigns/{created['id']}")
        assert "Programada" in page.text and "Pausar" in page.text
        r = await site.post(f"/campaigns/{created['id']}/pause", data={"csrf": csrf})
        assert r.status_code == 303 and r.headers["location"].endswith("done=campaign_paused")
        assert "Campaña en pausa." in (await site.get(r.headers["location"])).text
        r = await site.post(f"/campaigns/{created['id']}/pause", data={"csrf": csrf})
        assert r.status_code == 409 and "Reanudar" in r.text
        r = await site.post(f"/campaigns/{created['id']}/resume", data={"csrf": csrf, "budget": "-3"})
        assert r.status_code == 400
        r = await site.post(f"/campaigns/{created['id']}/resume", data={"csrf": csrf, "budget": "5"})
        assert r.status_code == 303
        r = await site.post(f"/campaigns/{created['id']}/cancel", data={"csrf": csrf})
        assert r.status_code == 303
        assert "Cancelada" in (await site.get(f"/campaigns/{created['id']}")).text
        r = await site.post(f"/campaigns/{created['id']}/explode", data={"csrf": csrf})
        assert r.status_code == 404
    r = await client.get(f"/campaigns/{created['id']}", headers=inbox.admin.headers)
    assert r.json()["data"]["status"] == "CANCELLED" and r.json()["data"]["budget"] == 5.0


async def test_bad_input_is_refused_before_anything_is_stored(app, inbox, client, runtime):
    template_id = await template(inbox, client, runtime)
    good_csv = ("people.csv", (f"{phones(1)[0]}\n").encode(), "text/csv")
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.admin)
        for data, files in (
            (_form(csrf, template_id), None),  # no file
            (_form(csrf, template_id), {"recipients": ("x.csv", b"\xff\xfe\x00bad", "text/csv")}),
            (_form(csrf, template_id), {"recipients": ("x.csv", b"phone\n", "text/csv")}),
            (_form(csrf, template_id, scheduled_at="tomorrow"), {"recipients": good_csv}),
            (_form(csrf, template_id, budget="-1"), {"recipients": good_csv}),
        ):
            r = await site.post("/campaigns", data=data, files=files or {"x": ("", b"", "text/plain")})
            assert r.status_code == 400 and "Check the campaign" in r.text, (data, r.status_code)
        r = await site.post(
            "/campaigns", data=_form(csrf, "no-such-template"), files={"recipients": good_csv}
        )
        assert r.status_code == 404 and "That did not work" in r.text
        r = await site.post(
            "/campaigns", data=_form(csrf, template_id, values=""), files={"recipients": good_csv}
        )
        assert r.status_code == 400 and "variables.body" in r.text  # the template takes two values
        r = await site.post(
            "/campaigns",
            data=_form(csrf, template_id, name="<b>x</b>"),
            files={"recipients": ("a.csv", b"12\n", "text/csv")},
        )
        assert r.status_code == 400 and "<b>x</b>" not in r.text
    r = await client.get("/campaigns", headers=inbox.admin.headers)
    assert r.json()["data"] == []


async def test_roles_and_another_organizations_campaign(app, inbox, client, runtime, factory, graph):
    other = await make_inbox(client, runtime, factory, graph)
    theirs = await create(
        client,
        other.admin,
        await template(other, client, runtime),
        phones(1),
        scheduledAt=(utcnow() + timedelta(hours=1)).isoformat(),
    )
    mine = await create(
        client,
        inbox.admin,
        await template(inbox, client, runtime),
        phones(1),
        scheduledAt=(utcnow() + timedelta(hours=1)).isoformat(),
        variables=VALUES,
    )
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.supervisor)
        page = await site.get(f"/campaigns/{mine['id']}")
        assert (
            page.status_code == 200
            and "/pause" not in page.text
            and 'type="file"' not in (await site.get("/campaigns")).text
        )
        r = await site.post(f"/campaigns/{mine['id']}/pause", data={"csrf": csrf})
        assert r.status_code == 403
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.agent)
        for path in ("/campaigns", f"/campaigns/{mine['id']}", f"/campaigns/{mine['id']}/progress"):
            r = await site.get(path)
            assert r.status_code == 403 and "Shipping" not in r.text, path
        r = await site.post("/campaigns", data=_form(csrf, "x"))
        assert r.status_code == 403
    async with browser(app) as site:
        csrf = await signed_in(site, inbox.admin)
        for path in (f"/campaigns/{theirs['id']}", f"/campaigns/{theirs['id']}/progress"):
            assert (await site.get(path)).status_code == 404, path
        for action in ("pause", "cancel"):
            r = await site.post(f"/campaigns/{theirs['id']}/{action}", data={"csrf": csrf})
            assert r.status_code == 404, action
        r = await site.post(f"/campaigns/{mine['id']}/cancel", data={})
        assert r.status_code == 403
    r = await client.get(f"/campaigns/{theirs['id']}", headers=other.admin.headers)
    assert r.json()["data"]["status"] == "SCHEDULED"
