"""Talking to Meta about templates: the account's Graph client, and Meta's refusals as answers a
person can act on (Meta's own words for them, ``error_user_msg``, included).

- a name (and language) Meta already has, or is still deleting: 409 ``TEMPLATE_NAME_TAKEN``;
- an edit Meta refuses (its limits: one a day and ten in 30 days for an approved template; a
  template in review; the documented subcodes for these are not public, so every refusal of an
  edit is this answer): 409 ``TEMPLATE_EDIT_REFUSED``;
- content Meta refuses (bad variables, lengths, formats): 400 ``TEMPLATE_REJECTED_BY_META``;
- a token Meta no longer accepts: 409 ``WHATSAPP_TOKEN_INVALID`` (the account needs reconnecting);
- Meta down, throttling or timing out: 503 ``GRAPH_UNAVAILABLE`` with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.core.errors import AppError, Conflict, NotFound, ServiceUnavailable, ValidationFailed
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime

RETRY_AFTER_SECONDS = 30
#: Meta's subcodes for a name and language that exist already, or are being deleted (a deleted
#: name can't be reused for four weeks)
NAME_TAKEN_SUBCODES = frozenset({2388023, 2388024})
#: 2388xxx is Meta's family of template errors; 100 its invalid parameter
_TEMPLATE_SUBCODES = range(2388000, 2389000)


def _said(exc: GraphError) -> str:
    return exc.user_message or exc.message


def as_app_error(exc: GraphError, *, editing: bool = False) -> AppError:
    details = {"metaCode": exc.code, "metaSubcode": exc.subcode, "metaMessage": _said(exc)}
    if exc.is_auth_error:
        return Conflict(
            "Meta no longer accepts this WhatsApp account's access token: reconnect the account",
            code="WHATSAPP_TOKEN_INVALID",
            details=details,
        )
    if exc.retryable:
        return ServiceUnavailable(
            "The WhatsApp Cloud API is unavailable, try again",
            code="GRAPH_UNAVAILABLE",
            details={**details, "retryAfter": RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if exc.subcode in NAME_TAKEN_SUBCODES:
        return Conflict(f"Meta refused the name: {_said(exc)}", code="TEMPLATE_NAME_TAKEN", details=details)
    if editing:  # Meta's edit limits and review rules: whatever its code, the template can't change now
        return Conflict(f"Meta refused the edit: {_said(exc)}", code="TEMPLATE_EDIT_REFUSED", details=details)
    if exc.subcode == 33 and exc.code == 100:
        return NotFound("Meta does not have this template (or the account cannot reach it)", details=details)
    if exc.code == 100 or exc.code == 192 or (exc.subcode is not None and exc.subcode in _TEMPLATE_SUBCODES):
        return ValidationFailed(
            f"Meta refused the template: {_said(exc)}", code="TEMPLATE_REJECTED_BY_META", details=details
        )
    return Conflict(f"Meta refused the request: {_said(exc)}", code="META_REFUSED", details=details)


@asynccontextmanager
async def graph_for(
    runtime: Runtime, account: WhatsAppAccount, *, editing: bool = False
) -> AsyncIterator[GraphClient]:
    """The account's Graph client; a ``GraphError`` raised inside becomes the answer above."""
    if not account.access_token_encrypted:
        raise Conflict("The WhatsApp account has no access token", code="WHATSAPP_TOKEN_INVALID")
    token = runtime.secrets.decrypt(account.access_token_encrypted)
    try:
        async with GraphClient(runtime.settings.meta, token) as graph:
            yield graph
    except GraphError as exc:
        raise as_app_error(exc, editing=editing) from exc
