"""Tenancy sweep: no caller of one organization reaches another organization's things by id.

Every operation of the application's OpenAPI document whose path names something by id is called
by each kind of caller of organization A (ADMIN, SUPERVISOR, AGENT, API key) with organization B's
real id of that kind, and a minimal valid body. The answer is 404, except a 403 where the same
caller is refused the same route on A's own id too (a role refusal before the lookup tells
nothing). Afterwards every row B owns and every file stored under B's id is as before.

Routes added later are covered without touching this file: a path parameter this file cannot map to
a kind of id fails the test until it is mapped (or the route is excluded here, with a reason).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from cxinbox.app import API_PREFIX
from tests.sweeps.bodies import request_body
from tests.sweeps.estate import Estate, build_estate, settled_snapshot

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER = re.compile(r"\{([^}]+)\}")

#: (path prefix, parameter name) -> the kind of id it names; the longest matching prefix wins
ID_KINDS: dict[tuple[str, str], str] = {
    ("/conversations/", "id"): "conversation",
    ("/conversations/", "conversationId"): "conversation",
    ("/conversations/", "tagId"): "tag",
    ("/messages/", "id"): "message",
    ("/contacts/", "waId"): "contact",
    ("/tags/", "id"): "tag",
    ("/teams/", "id"): "team",
    ("/teams/", "userId"): "member",
    ("/users/", "id"): "user",
    ("/invitations/", "id"): "invitation",
    ("/quick-replies/", "id"): "quick_reply",
    ("/api-keys/", "id"): "api_key",
    ("/whatsapp-accounts/", "id"): "account",
    ("/whatsapp-accounts/alerts/", "id"): "alert",
    ("/templates/", "id"): "template",
    ("/templates/", "name"): "template_name",
    ("/campaigns/", "id"): "campaign",
    ("/bot-config/", "id"): "bot_config",
    ("/bot-config/intents/", "id"): "intent",
    ("/bot-config/documents/", "id"): "document",
    ("/bot-config/media/", "id"): "bot_media",
    ("/bot-config/prompt-versions/", "id"): "prompt_version",
    ("/bot-config/presets/", "id"): "preset",
    ("/bot-config/snapshots/", "id"): "snapshot",
    ("/bot-config/metrics/traces/", "traceId"): "trace",
    ("/bot-config/", "runId"): "shadow_run",
    ("/connections/", "id"): "connection",
    ("/tools/", "id"): "tool",
    ("/routing-rules/", "id"): "routing_rule",
    ("/integrations/data/", "conversationId"): "conversation",
    ("/inbox-data-sources/", "id"): "data_source",
    ("/inbox-data-sources/data/", "conversationId"): "conversation",
}

#: path prefixes out of the sweep's scope, with the reason
EXCLUDED_PREFIXES = {
    # the super admin's routes are platform-wide by design; tests/admin/test_access.py keeps every
    # organization's caller out of them
    "/admin/": "platform-wide by design (super admin only)",
    "/bot-templates/": "platform templates, not an organization's; an unpublished one is not found "
    "(tests/studio/test_templates.py)",
    "/phone-lookup/": "a phone number looked up in the caller's own integration, not an id (tests/tools)",
}
#: public operations (no credentials) with a path parameter: none names an organization's thing by id
PUBLIC_WITH_PARAMETERS = {
    ("GET", "/files/{key}"): "a signed storage key, checked by its signature (tests/files)",
    ("GET", "/invitations/token/{token}"): "an invitation's secret token, not an id",
    ("POST", "/invitations/accept/{token}"): "an invitation's secret token, not an id",
    (
        "GET",
        "/templates/{id}/header-media",
    ): "a random media id, not a lookup (tests/templates/test_media.py)",
}


def kind_of(path: str, parameter: str) -> str | None:
    matches = [(prefix, kind) for (prefix, name), kind in ID_KINDS.items() if name == parameter]
    matches = [(prefix, kind) for prefix, kind in matches if path.startswith(prefix)]
    return max(matches, key=lambda match: len(match[0]))[1] if matches else None


def swept_operations(document: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, Any]]], list[str]]:
    """The operations to sweep, and the path parameters nobody mapped yet."""
    swept, unmapped = [], []
    for full_path, item in document["paths"].items():
        path = full_path.removeprefix(API_PREFIX)
        parameters = PARAMETER.findall(path)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None or not parameters:
                continue
            if any(path.startswith(prefix) for prefix in EXCLUDED_PREFIXES):
                continue
            if not operation.get("security"):
                assert (method.upper(), path) in PUBLIC_WITH_PARAMETERS, (
                    f"public {method.upper()} {path}: in scope?"
                )
                continue
            missing = [p for p in parameters if kind_of(path, p) is None]
            unmapped += [f"{method.upper()} {path}: {{{p}}}" for p in missing]
            if not missing:
                swept.append((method.upper(), path, operation))
    # deletions last: a caller's own-id checks must find its own things still there
    swept.sort(key=lambda op: op[0] == "DELETE")
    return swept, unmapped


def url_for(path: str, ids: dict[str, str]) -> str:
    return PARAMETER.sub(lambda m: ids[str(kind_of(path, m.group(1)))], path)


async def test_no_caller_reaches_another_organizations_things_by_id(
    client, app, runtime, factory, graph, smtp
):
    document = app.openapi()
    operations, unmapped = swept_operations(document)
    assert not unmapped, f"path parameters the sweep cannot map to a kind of id yet: {unmapped}"
    ours = await build_estate(client, runtime, factory, graph, smtp)
    theirs = await build_estate(client, runtime, factory, graph, smtp)
    before = await settled_snapshot(runtime, theirs.organization_id)
    owned = {"conversations", "messages", "contacts", "tags", "quick_replies", "invitations", "files"}
    assert all(before[name] for name in owned), "the snapshot must hold the organization's things"

    leaks = []
    for caller, headers in ours.callers().items():
        for method, path, operation in operations:
            body = request_body(document, operation, ours.ids)
            response = await client.request(method, url_for(path, theirs.ids), headers=headers, **body)
            if response.status_code == 404:
                continue
            if response.status_code == 403 and await _refused_on_own_id(
                client, method, path, ours, headers, body
            ):
                continue
            leaks.append(f"{caller} {method} {path}: {response.status_code} {response.text[:200]}")
    assert not leaks, "answers other than 404 about another organization's ids:\n" + "\n".join(leaks)
    assert {op[1] for op in operations} >= {"/conversations/{id}", "/contacts/{waId}", "/api-keys/{id}"}

    after = await settled_snapshot(runtime, theirs.organization_id)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"another organization's data changed in: {changed}"


async def _refused_on_own_id(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    ours: Estate,
    headers: dict[str, str],
    body: dict[str, Any],
) -> bool:
    """Whether the caller is refused the same route about its own organization's thing."""
    response = await client.request(method, url_for(path, ours.ids), headers=headers, **body)
    return response.status_code == 403
