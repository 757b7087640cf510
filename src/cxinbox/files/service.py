from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from cxinbox.core.crypto import derive_key
from cxinbox.runtime import Runtime

PUBLIC_PREFIX = "public/"
FILES_PATH = "/api/v1/files/"


def _signature(runtime: Runtime, key: str, expires: int) -> str:
    secret = derive_key(runtime.settings.effective_secret_key, "file-urls")
    return hmac.new(secret, f"{key}:{expires}".encode(), hashlib.sha256).hexdigest()


def file_url(runtime: Runtime, key: str, *, ttl_seconds: int = 3600) -> str:
    """An absolute URL for ``key``: permanent for public keys, signed and short-lived otherwise."""
    base = runtime.settings.public_url.rstrip("/") + FILES_PATH + quote(key)
    if key.startswith(PUBLIC_PREFIX):
        return base
    expires = int(time.time()) + ttl_seconds
    return f"{base}?expires={expires}&signature={_signature(runtime, key, expires)}"


def url_is_valid(runtime: Runtime, key: str, expires: int | None, signature: str | None) -> bool:
    if key.startswith(PUBLIC_PREFIX):
        return True
    if expires is None or signature is None or expires < time.time():
        return False
    return hmac.compare_digest(_signature(runtime, key, expires), signature)
