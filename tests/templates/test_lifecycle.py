"""/templates: drafts, create and submit at Meta, edit, duplicate, delete here and at Meta, bulk,
Meta's refusals, statuses from webhooks, and sync over Graph's pages."""

from __future__ import annotations

import pytest

from tests.fixtures.audit import audit_entries
from tests.fixtures.inbox import make_inbox
from tests.fixtures.people import api_key_headers, error_code, events_of
from tests.fixtures.whatsapp import connect_number, deliver
from tests.templates.helpers import BODY, COMPONENTS, approved, create, draft, meta_says, template_webhook


@pytest.fixture
async def inbox(client, runtime, factory, graph):
    return await make_inbox(client, runtime, factory, graph)


async def test_create_submits_to_meta_in_its_format(inbox, client, graph, runtime):
    template = await create(
        client, inbox.admin, components=[{"type": "body", **{k: v for k, v in BODY.items() if k != "type"}}]
    )
    assert (template["status"], template["category"], template["language"]) == ("PENDING", "UTILITY", "en_US")
    assert template["metaTemplateId"] and template["whatsappAccountId"] == inbox.account.id
    method, path, _, sent = graph.templates.calls_to("POST")[-1]
    assert path.endswith(f"/{inbox.account.waba_id}/message_templates")
    assert sent == {"name": "order_shipped", "language": "en_US", "category": "UTILITY", "components": [BODY]}
    assert [e["id"] for e in await events_of(runtime, inbox.org.id, "template.created")] == [template["id"]]
    # the list shows APPROVED ones by default; status=all shows the rest
    r = await client.get("/templates", headers=inbox.agent.headers)
    assert r.status_code == 200 and r.json()["data"] == []
    r = await client.get("/templates?status=all", headers=inbox.supervisor.headers)
    assert [t["name"] for t in r.json()["data"]] == ["order_shipped"]


async def test_meta_refusals_are_clear_answers(inbox, client, graph):
    await create(client, inbox.admin)
    # the same name and language again: refused here before Meta is asked
    r = await client.post(
        "/templates",
        json={"name": "order_shipped", "category": "UTILITY", "components": COMPONENTS},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_NAME_TAKEN"
    # Meta has it already (made elsewhere): Meta's 2388024 with its own words
    graph.templates.add_template(inbox.account.waba_id, inbox.account.token, "made_elsewhere")
    r = await client.post(
        "/templates",
        json={"name": "made_elsewhere", "category": "UTILITY", "components": COMPONENTS},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_NAME_TAKEN"
    assert r.json()["error"]["details"]["metaSubcode"] == 2388024
    assert "already" in r.json()["error"]["details"]["metaMessage"]
    # variables without samples: caught here, naming the part
    body = {"type": "BODY", "text": "Hi {{1}} and {{3}}!"}
    r = await client.post(
        "/templates",
        json={"name": "gaps", "category": "UTILITY", "components": [body]},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400 and "components[0].text" in r.text
    calls = len(graph.templates.state.calls)
    for bad in (
        [{"type": "BODY", "text": "x" * 1025}],
        [{"type": "HEADER", "format": "TEXT", "text": "Hi"}],
        [{"type": "BODY", "text": "Hi {{1}}"}],  # a variable ends the body, and has no sample
        [BODY, {"type": "FOOTER", "text": "Bye {{1}}"}],
        [{"type": "BODY", "text": "Hi {{name}} there"}],
    ):
        r = await client.post(
            "/templates",
            json={"name": "bad", "category": "UTILITY", "components": bad},
            headers=inbox.admin.headers,
        )
        assert r.status_code == 400, bad
    assert len(graph.templates.state.calls) == calls  # nothing reached Meta


async def test_draft_update_submit_duplicate(inbox, client, graph, runtime):
    saved = await draft(client, inbox.admin)
    assert (saved["status"], saved["metaTemplateId"], saved["components"]) == ("DRAFT", None, [{}])
    url = f"/templates/{saved['id']}"
    r = await client.post(f"{url}/submit", headers=inbox.admin.headers)
    assert r.status_code == 400  # an empty component is not a template Meta could take
    body = {"name": "order_draft", "category": "UTILITY", "components": COMPONENTS}
    r = await client.put(f"{url}/draft", json=body, headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["category"] == "UTILITY"
    r = await client.post(f"{url}/submit", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"]["status"] == "PENDING"
    assert graph.templates.named(inbox.account.waba_id, "order_draft")
    # no longer a draft
    assert (await client.put(f"{url}/draft", json=body, headers=inbox.admin.headers)).status_code == 409
    assert (await client.post(f"{url}/submit", headers=inbox.admin.headers)).status_code == 409
    copies = [
        (await client.post(f"{url}/duplicate", headers=inbox.admin.headers)).json()["data"] for _ in range(2)
    ]
    assert [(c["name"], c["status"]) for c in copies] == [
        ("order_draft_copy", "DRAFT"),
        ("order_draft_copy_2", "DRAFT"),
    ]
    assert copies[0]["components"] == r.json()["data"]["components"]


async def test_edit_follows_meta_rules(inbox, client, graph, runtime):
    template = await create(client, inbox.admin)
    url = f"/templates/{template['id']}"
    new = [
        {
            "type": "BODY",
            "text": "Hello {{1}}, order {{2}} is on its way.",
            "example": {"body_text": [["A", "B"]]},
        }
    ]
    r = await client.put(url, json={"components": new}, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_NOT_EDITABLE"  # PENDING: in review
    drafted = await draft(client, inbox.admin)
    r = await client.put(f"/templates/{drafted['id']}", json={"components": new}, headers=inbox.admin.headers)
    assert r.status_code == 409
    at_meta = graph.templates.find(template["metaTemplateId"])
    at_meta.status = "APPROVED"
    await meta_says(client, runtime, inbox.account.waba_id, template, "APPROVED")
    r = await client.put(url, json={"components": new, "category": "MARKETING"}, headers=inbox.admin.headers)
    assert r.status_code == 409  # an approved template keeps its category
    r = await client.put(url, json={"components": new}, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["status"], r.json()["data"]["components"]) == ("PENDING", new)
    assert graph.templates.find(template["metaTemplateId"]).components == new
    # Meta's edit limit: one edit of an approved template per 24 hours
    at_meta.status = "APPROVED"
    await meta_says(client, runtime, inbox.account.waba_id, template, "APPROVED")
    r = await client.put(url, json={"components": COMPONENTS}, headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_EDIT_REFUSED"
    assert "24 hours" in r.json()["error"]["message"]


async def test_webhooks_fold_into_status_quality_and_category(inbox, client, runtime):
    template = await create(client, inbox.admin)
    waba = inbox.account.waba_id
    rejection = {"reason": "Parameters placed next to each other.", "recommendation": "Separate them."}
    await meta_says(
        client, runtime, waba, template, "REJECTED", reason="INVALID_FORMAT", rejection_info=rejection
    )
    r = await client.get("/templates?status=REJECTED", headers=inbox.admin.headers)
    (rejected,) = r.json()["data"]
    assert rejected["rejectedReason"] == "INVALID_FORMAT — Parameters placed next to each other."
    await meta_says(client, runtime, waba, template, "APPROVED", message_template_category="MARKETING")
    quality = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "YELLOW",
        "message_template_id": int(template["metaTemplateId"]),
        "message_template_name": template["name"],
        "message_template_language": "en_US",
    }
    await deliver(client, runtime, template_webhook(waba, "message_template_quality_update", quality))
    (shown,) = (await client.get("/templates", headers=inbox.agent.headers)).json()["data"]
    assert (shown["status"], shown["category"], shown["qualityScore"], shown["rejectedReason"]) == (
        "APPROVED",
        "MARKETING",
        "YELLOW",
        None,
    )
    category = {
        "message_template_id": int(template["metaTemplateId"]),
        "message_template_name": template["name"],
        "message_template_language": "en_US",
        "new_category": "UTILITY",
    }
    await deliver(client, runtime, template_webhook(waba, "template_category_update", category))
    await meta_says(client, runtime, waba, template, "IN_APPEAL")
    r = await client.get("/templates?status=UNKNOWN", headers=inbox.admin.headers)
    assert r.json()["data"] == []
    (appealed,) = (await client.get("/templates?status=IN_APPEAL", headers=inbox.admin.headers)).json()[
        "data"
    ]
    assert (appealed["category"], appealed["metaStatus"]) == ("UTILITY", "IN_APPEAL")
    await meta_says(client, runtime, waba, template, "SOMETHING_NEW")
    (unknown,) = (await client.get("/templates?status=UNKNOWN", headers=inbox.admin.headers)).json()["data"]
    assert unknown["metaStatus"] == "SOMETHING_NEW"
    updates = await events_of(runtime, inbox.org.id, "template.updated")
    assert [u["status"] for u in updates][-3:] == ["APPROVED", "IN_APPEAL", "UNKNOWN"]


async def test_another_organizations_webhook_changes_nothing(inbox, client, runtime, factory, graph):
    template = await create(client, inbox.admin)
    other = await factory.org()
    other_account = await connect_number(runtime, graph, other.id)
    await meta_says(client, runtime, other_account.waba_id, template, "APPROVED")
    (shown,) = (await client.get("/templates?status=all", headers=inbox.admin.headers)).json()["data"]
    assert shown["status"] == "PENDING"


async def test_sync_follows_pages_and_removes_what_meta_dropped(inbox, client, graph, runtime):
    waba, token = inbox.account.waba_id, inbox.account.token
    kept = await create(client, inbox.admin, "kept_here")
    dropped = await create(client, inbox.admin, "dropped_at_meta")
    graph.templates.state.templates[waba] = [
        t for t in graph.templates.state.templates[waba] if t.name != "dropped_at_meta"
    ]
    graph.templates.find(kept["metaTemplateId"]).status = "APPROVED"
    for i in range(4):
        graph.templates.add_template(waba, token, f"remote_{i}", status="APPROVED", quality="GREEN")
    graph.templates.add_template(
        waba, token, "remote_rejected", status="REJECTED", rejected_reason="PROMOTIONAL"
    )
    graph.templates.state.page_size = 2
    calls = len(graph.templates.calls_to("GET"))
    try:
        r = await client.post("/templates/sync", headers=inbox.admin.headers)
    finally:
        graph.templates.state.page_size = 25
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"created": 5, "updated": 1, "removed": 1}
    pages = graph.templates.calls_to("GET")[calls:]
    assert [p[2].get("after") for p in pages] == [None, "2", "4"] and "quality_score" in pages[0][2]["fields"]
    listed = (await client.get("/templates?status=all", headers=inbox.admin.headers)).json()["data"]
    assert {t["name"]: t["status"] for t in listed} == {
        "kept_here": "APPROVED",
        **{f"remote_{i}": "APPROVED" for i in range(4)},
        "remote_rejected": "REJECTED",
    }
    assert next(t for t in listed if t["name"] == "remote_0")["qualityScore"] == "GREEN"
    assert next(t for t in listed if t["name"] == "remote_rejected")["rejectedReason"] == "PROMOTIONAL"
    removed = (await client.get("/templates?status=REMOVED", headers=inbox.admin.headers)).json()["data"]
    assert [t["id"] for t in removed] == [dropped["id"]]
    # a second sync finds nothing new
    r = await client.post("/templates/sync", headers=inbox.admin.headers)
    assert r.json()["data"] == {"created": 0, "updated": 0, "removed": 0}


async def test_delete_here_and_at_meta(inbox, client, graph):
    first = await create(client, inbox.admin, "first")
    r = await client.delete(f"/templates/{first['id']}", headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": first["id"], "deleted": True}
    assert graph.templates.named(inbox.account.waba_id, "first")  # Meta keeps it
    second = await create(client, inbox.admin, "second")
    await create(client, inbox.admin, "second", language="pt_BR")
    r = await client.delete(f"/templates/{second['id']}/meta", headers=inbox.admin.headers)
    assert r.status_code == 200
    _, _, query, _ = graph.templates.calls_to("DELETE")[-1]
    assert query == {"name": "second", "hsm_id": second["metaTemplateId"]}
    assert [t.language for t in graph.templates.named(inbox.account.waba_id, "second")] == ["pt_BR"]
    statuses = {
        t["id"]: t["status"]
        for t in (await client.get("/templates?status=REMOVED", headers=inbox.admin.headers)).json()["data"]
    }
    assert statuses == {first["id"]: "REMOVED", second["id"]: "REMOVED"}
    drafted = await draft(client, inbox.admin)
    r = await client.delete(f"/templates/{drafted['id']}/meta", headers=inbox.admin.headers)
    assert r.status_code == 409 and error_code(r) == "TEMPLATE_NOT_AT_META"
    # the name is free again once removed
    await draft(client, inbox.admin, "first")


async def test_bulk_delete(inbox, client):
    a, b = await draft(client, inbox.admin, "a"), await draft(client, inbox.admin, "b")
    body = {"action": "delete", "selection": {"mode": "ids", "ids": [a["id"], "missing-id"]}}
    r = await client.post("/templates/bulk", json=body, headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["succeeded"], data["succeededIds"], data["failed"][0]["id"]) == (1, [a["id"]], "missing-id")
    body = {"action": "delete", "selection": {"mode": "filter", "filter": {"status": "DRAFT"}}}
    r = await client.post("/templates/bulk", json=body, headers=inbox.admin.headers)
    assert r.json()["data"]["succeededIds"] == [b["id"]]
    r = await client.post(
        "/templates/bulk",
        json={"action": "archive", "selection": {"mode": "ids", "ids": [a["id"]]}},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400
    r = await client.post("/templates/bulk", json=body, headers=inbox.agent.headers)
    assert r.status_code == 403


async def test_roles_tokens_and_other_organizations(inbox, client, graph, runtime, factory):
    template = await create(client, inbox.admin)
    url = f"/templates/{template['id']}"
    draft_body = {"name": "x", "category": "UTILITY", "components": COMPONENTS}
    writes = [
        ("POST", "/templates", draft_body),
        ("POST", "/templates/draft", draft_body),
        ("PUT", f"{url}/draft", draft_body),
        ("POST", f"{url}/submit", None),
        ("PUT", url, {"components": COMPONENTS}),
        ("DELETE", url, None),
        ("DELETE", f"{url}/meta", None),
        ("POST", f"{url}/duplicate", None),
        ("POST", "/templates/sync", None),
    ]
    calls = len(graph.templates.state.calls)
    for method, path, body in writes:
        for member in (inbox.agent, inbox.supervisor):
            r = await client.request(method, path, json=body, headers=member.headers)
            assert r.status_code == 403, (method, path, r.text)
        r = await client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)
    assert len(graph.templates.state.calls) == calls  # nothing reached Meta
    r = await client.get("/templates?status=all", headers=inbox.agent.headers)
    assert r.status_code == 403
    assert (await client.get("/templates")).status_code == 401
    # another organization: the template and the WhatsApp account are not found
    other = await factory.org()
    other_account = await connect_number(runtime, graph, other.id)
    for method, path, body in writes[2:8]:
        r = await client.request(method, path, json=body, headers=other.admin.headers)
        assert r.status_code == 404, (method, path, r.text)
    r = await client.post(
        "/templates", json={**draft_body, "whatsappAccountId": inbox.account.id}, headers=other.admin.headers
    )
    assert r.status_code == 404
    r = await client.post(
        "/templates/sync", json={"whatsappAccountId": inbox.account.id}, headers=other.admin.headers
    )
    assert r.status_code == 404
    assert (await client.get("/templates?status=all", headers=other.admin.headers)).json()["data"] == []
    # the other organization naming our business account's templates at Meta is refused by Meta
    assert other_account.waba_id != inbox.account.waba_id
    # an API key with every scope reaches the area
    headers = await api_key_headers(client, inbox.org)
    assert (await client.get("/templates?status=all", headers=headers)).status_code == 200


async def test_validation_errors(inbox, client, factory, runtime, graph):
    for body in (
        {"name": "Has Spaces", "category": "UTILITY", "components": COMPONENTS},
        {"name": "ok", "category": "PROMO", "components": COMPONENTS},
        {"name": "ok", "category": "UTILITY", "components": []},
        {"name": "ok", "category": "UTILITY", "components": COMPONENTS, "language": "english"},
    ):
        r = await client.post("/templates/draft", json=body, headers=inbox.admin.headers)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body
    # several accounts and none named
    await connect_number(runtime, graph, inbox.org.id)
    r = await client.post(
        "/templates/draft",
        json={"name": "ok", "category": "UTILITY", "components": COMPONENTS},
        headers=inbox.admin.headers,
    )
    assert r.status_code == 400 and "whatsappAccountId" in r.text
    r = await client.get("/templates?status=NOPE", headers=inbox.admin.headers)
    assert r.status_code == 400


async def test_token_meta_refuses_and_meta_down(inbox, client, graph, factory, runtime):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    graph.state.tokens.discard(account.token)
    r = await client.post(
        "/templates",
        json={"name": "x", "category": "UTILITY", "components": COMPONENTS},
        headers=org.admin.headers,
    )
    assert r.status_code == 409 and error_code(r) == "WHATSAPP_TOKEN_INVALID"
    graph.state.tokens.add(account.token)
    graph.fail_next_reads(account.waba_id, (503, 2))
    r = await client.post("/templates/sync", headers=org.admin.headers)
    assert r.status_code == 503 and r.headers["Retry-After"]


async def test_approved_list_filters(inbox, client, runtime):
    await approved(client, runtime, inbox.account.waba_id, inbox.admin, "welcome")
    await approved(client, runtime, inbox.account.waba_id, inbox.admin, "promo_sale", category="MARKETING")
    r = await client.get("/templates?category=MARKETING", headers=inbox.agent.headers)
    assert [t["name"] for t in r.json()["data"]] == ["promo_sale"]
    r = await client.get("/templates?search=WEL", headers=inbox.agent.headers)
    assert [t["name"] for t in r.json()["data"]] == ["welcome"]
    r = await client.get(f"/templates?whatsappAccountId={inbox.account.id}", headers=inbox.agent.headers)
    assert len(r.json()["data"]) == 2


async def test_management_is_written_to_the_audit_log(inbox, client, runtime):
    template = await create(client, inbox.admin, "audited")
    saved = await draft(client, inbox.admin, "audited_draft")
    assert (
        await client.post(f"/templates/{saved['id']}/duplicate", headers=inbox.admin.headers)
    ).status_code == 201
    assert (
        await client.delete(f"/templates/{template['id']}/meta", headers=inbox.admin.headers)
    ).status_code == 200
    assert (await client.post("/templates/sync", headers=inbox.admin.headers)).status_code == 200
    created = await audit_entries(runtime, inbox.org.id, "template.created")
    assert [(e.target_id, e.details["name"], e.details["status"]) for e in created][:2] == [
        (template["id"], "audited", "PENDING"),
        (saved["id"], "audited_draft", "DRAFT"),
    ]
    assert created[2].details["duplicateOf"] == saved["id"] and created[2].actor_user_id == inbox.admin.id
    (deleted,) = await audit_entries(runtime, inbox.org.id, "template.deleted_at_meta")
    assert (deleted.target_id, deleted.details["status"]) == (template["id"], "REMOVED")
    (synced,) = await audit_entries(runtime, inbox.org.id, "template.synced")
    assert set(synced.details) == {"created", "updated", "removed"}


async def test_the_simulator_moves_a_template_like_meta_does(inbox, client):
    template = await create(client, inbox.admin, "simulated")
    body = {"templateName": "simulated", "event": "APPROVED", "templateId": template["metaTemplateId"]}
    r = await client.post("/dev/simulate/template-status", json=body, headers=inbox.admin.headers)
    assert r.status_code in (200, 201), r.text
    (shown,) = (await client.get("/templates", headers=inbox.agent.headers)).json()["data"]
    assert (shown["id"], shown["status"]) == (template["id"], "APPROVED")


async def test_a_template_removed_here_stays_removed(inbox, client, runtime, graph):
    old = await create(client, inbox.admin, "reused_name")
    assert (await client.delete(f"/templates/{old['id']}", headers=inbox.admin.headers)).status_code == 200
    graph.templates.state.templates[inbox.account.waba_id] = []  # gone at Meta too, so the name is free
    new = await create(client, inbox.admin, "reused_name")
    graph.templates.find(new["metaTemplateId"]).status = "APPROVED"
    graph.templates.add_template(
        inbox.account.waba_id, inbox.account.token, "reused_name", "en_GB", id=old["metaTemplateId"]
    )
    await meta_says(
        client, runtime, inbox.account.waba_id, old, "APPROVED"
    )  # a late webhook about the old one
    assert (await client.post("/templates/sync", headers=inbox.admin.headers)).status_code == 200
    statuses = {
        t["id"]: t["status"]
        for t in (await client.get("/templates?status=all", headers=inbox.admin.headers)).json()["data"]
    }
    assert statuses == {new["id"]: "APPROVED"}
