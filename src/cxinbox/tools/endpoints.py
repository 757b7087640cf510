"""Where a request goes and how it authenticates (a connection's or the integration's), with the
credentials decrypted only in memory, for the one call that needs them.

Credentials by ``authType``: ``API_KEY_HEADER`` sends ``secrets.apiKey`` in ``headerName`` (default
``X-API-Key``); ``API_KEY_QUERY`` in the query parameter ``queryParam`` (default ``api_key``);
``BEARER`` sends ``secrets.token``; ``BASIC`` ``secrets.username`` and ``secrets.password``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cxinbox.core.crypto import SecretBox, mask_secret
from cxinbox.models.tools import AuthType, EndpointColumns

DEFAULT_HEADER_NAME = "X-API-Key"
DEFAULT_QUERY_PARAM = "api_key"
#: the secrets each auth type needs
REQUIRED_SECRETS: dict[AuthType, tuple[str, ...]] = {
    AuthType.NONE: (),
    AuthType.API_KEY_HEADER: ("apiKey",),
    AuthType.API_KEY_QUERY: ("apiKey",),
    AuthType.BEARER: ("token",),
    AuthType.BASIC: ("username", "password"),
}


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    auth_type: AuthType = AuthType.NONE
    header_name: str | None = None
    query_param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    timeout_seconds: float = 10.0

    def auth_headers(self) -> dict[str, str]:
        if self.auth_type == AuthType.API_KEY_HEADER:
            return {self.header_name or DEFAULT_HEADER_NAME: self.secrets.get("apiKey", "")}
        if self.auth_type == AuthType.BEARER:
            return {"Authorization": f"Bearer {self.secrets.get('token', '')}"}
        if self.auth_type == AuthType.BASIC:
            return {"Authorization": f"Basic {self._basic_credentials()}"}
        return {}

    def auth_query(self) -> dict[str, str]:
        if self.auth_type == AuthType.API_KEY_QUERY:
            return {self.query_param or DEFAULT_QUERY_PARAM: self.secrets.get("apiKey", "")}
        return {}

    def secret_values(self) -> list[str]:
        """Every form a credential may take in an answer (redacted from what callers see)."""
        values = [value for value in self.secrets.values() if value]
        if self.auth_type == AuthType.BASIC:
            values.append(self._basic_credentials())
        return sorted(values, key=len, reverse=True)

    def _basic_credentials(self) -> str:
        pair = f"{self.secrets.get('username', '')}:{self.secrets.get('password', '')}"
        return base64.b64encode(pair.encode()).decode()


def open_secrets(box: SecretBox, row: EndpointColumns) -> dict[str, str]:
    if not row.secrets_ciphertext:
        return {}
    secrets: dict[str, str] = json.loads(box.decrypt(row.secrets_ciphertext))
    return secrets


def seal_secrets(box: SecretBox, secrets: dict[str, str]) -> str | None:
    return box.encrypt(json.dumps(secrets)) if secrets else None


def masked_secrets(box: SecretBox, row: EndpointColumns) -> dict[str, str | None]:
    return {name: mask_secret(value) for name, value in open_secrets(box, row).items()}


def endpoint_of(box: SecretBox, row: EndpointColumns) -> Endpoint:
    return Endpoint(
        base_url=row.base_url,
        auth_type=row.auth_type,
        header_name=row.header_name,
        query_param=row.query_param,
        headers=dict(row.headers or {}),
        secrets=open_secrets(box, row),
        timeout_seconds=row.timeout_ms / 1000,
    )


def merged_secrets(current: dict[str, str], changes: Mapping[Any, str | None] | None) -> dict[str, str]:
    """``changes`` over ``current``: a string replaces, ``null`` removes, a masked value (what a
    read showed) or a missing name keeps."""
    merged = dict(current)
    for name, value in (changes or {}).items():
        if value is None:
            merged.pop(name, None)
        elif not str(value).startswith("••••"):
            merged[name] = str(value)
    return merged


def missing_secrets(auth_type: AuthType, secrets: dict[str, str]) -> list[str]:
    return [name for name in REQUIRED_SECRETS[auth_type] if not secrets.get(name)]
