"""Cross-site request forgery: every form of the console carries a token that only a page of ours
can know, checked on every POST.

The browser holds a random nonce in an HttpOnly cookie; a page carries the nonce's HMAC (in each
form's hidden ``csrf`` field, and in the ``X-CSRF-Token`` header htmx sends). Another site can make
the browser send the cookie but cannot read our pages, so it cannot send the matching token; and
without our key, a nonce planted in the cookie has no token to go with it. A new nonce is set at
every sign-in and sign-out.
"""

from __future__ import annotations

import hashlib
import hmac

from cxinbox.core.crypto import derive_key, random_token

COOKIE = "cx_csrf"
FIELD = "csrf"
HEADER = "X-CSRF-Token"


class CsrfKey:
    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "console-csrf")

    @staticmethod
    def new_nonce() -> str:
        return random_token(24)

    def token(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def matches(self, nonce: str | None, submitted: str | None) -> bool:
        if not nonce or not submitted:
            return False
        return hmac.compare_digest(self.token(nonce), submitted)
