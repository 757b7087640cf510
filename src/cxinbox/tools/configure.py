"""Saving and showing an endpoint's settings (a connection's or the integration's): credentials
merged, checked against the auth type, encrypted; shown masked; a test call reported."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from cxinbox.core.crypto import SecretBox
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.outbound import is_public_address
from cxinbox.models.tools import EndpointColumns
from cxinbox.tools.endpoints import (
    masked_secrets,
    merged_secrets,
    missing_secrets,
    open_secrets,
    seal_secrets,
)
from cxinbox.tools.engine import Answer
from cxinbox.tools.schemas import CallReport, EndpointIn

PREVIEW_CHARS = 4096


def apply_endpoint(box: SecretBox, row: EndpointColumns, body: EndpointIn, *, allow_private: bool) -> None:
    """Write ``body``'s endpoint settings on ``row`` (400 naming the field when they cannot work)."""
    check_destination(body.base_url, "baseUrl", allow_private=allow_private)
    current = open_secrets(box, row) if row.secrets_ciphertext else {}
    secrets = merged_secrets(current, body.secrets)
    missing = missing_secrets(body.auth_type, secrets)
    if missing:
        raise ValidationFailed(
            f"authType {body.auth_type} needs secrets {', '.join(missing)}",
            details=[{"field": f"secrets.{name}", "message": "required by authType"} for name in missing],
        )
    row.base_url = body.base_url
    row.auth_type = body.auth_type
    row.header_name = body.header_name
    row.query_param = body.query_param
    row.headers = dict(body.headers)
    row.secrets_ciphertext = seal_secrets(box, secrets)
    row.timeout_ms = body.timeout_ms


def check_destination(url: str, field: str, *, allow_private: bool) -> None:
    """An address written as a private IP is refused when saved (a name is checked when called)."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not allow_private and not is_public_address(address):
        raise ValidationFailed.field(field, "must not point to a private, loopback or link-local address")


def endpoint_fields(box: SecretBox, row: EndpointColumns) -> dict[str, Any]:
    return {
        "base_url": row.base_url,
        "auth_type": row.auth_type,
        "header_name": row.header_name,
        "query_param": row.query_param,
        "headers": dict(row.headers or {}),
        "secrets": masked_secrets(box, row),
        "timeout_ms": row.timeout_ms,
    }


def report(answer: Answer) -> CallReport:
    return CallReport(
        ok=answer.ok,
        status=answer.status,
        latency_ms=answer.latency_ms,
        body_preview=answer.text[:PREVIEW_CHARS],
        error=answer.error
        if answer.error
        else None
        if answer.ok
        else f"the service answered {answer.status}",
    )
