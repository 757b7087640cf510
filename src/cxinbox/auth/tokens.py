"""Signed JWTs: short-lived access tokens and the even shorter tokens for browser event streams."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from cxinbox.core.clock import utcnow
from cxinbox.core.crypto import derive_key
from cxinbox.core.errors import Unauthorized
from cxinbox.core.ids import new_id

ALGORITHM = "HS256"
ACCESS = "access"
EVENTS = "events"
#: the ``amr`` claim of an access token issued for a one-time code just verified (not on refresh)
BY_CODE = "otc"


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "jwt-signing")

    def issue(self, claims: dict[str, Any], *, kind: str, ttl_seconds: int) -> str:
        now = utcnow()
        payload = {
            **{k: v for k, v in claims.items() if v is not None},
            "typ": kind,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_seconds),
            "jti": new_id(),
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def verify(self, token: str, *, kind: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired", details={"reason": "token_expired"}) from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid") from exc
        if claims.get("typ") != kind:
            raise Unauthorized("The token is not valid")
        return claims
