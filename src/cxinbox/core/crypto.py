"""Secrets at rest and hashes of bearer secrets, all keyed from ``CXINBOX_SECRET_KEY``.

Each purpose gets its own key derived with HKDF, so a key used to sign tokens never encrypts data.

``SecretBox.decrypt`` remembers its latest decryptions, keyed by the ciphertext itself: a hot path
(a tool call, a send) decrypts the same stored secret again and again, and a secret that changes is
stored as a new ciphertext (a fresh nonce each time), so a remembered plaintext is exact by
construction and never stale. Only ciphertexts up to ``MAX_CACHED_CIPHERTEXT`` characters (a
credential, not a mail body) are remembered, at most ``DECRYPTION_CACHE_SIZE`` of them; a
ciphertext that fails is never remembered.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"cxinbox", info=purpose.encode())
    return hkdf.derive(secret_key.encode())


#: decryptions a ``SecretBox`` remembers (the least recently used forgotten first)
DECRYPTION_CACHE_SIZE = 1024
#: the longest ciphertext remembered: a credential's (a JSON map of a few keys included)
MAX_CACHED_CIPHERTEXT = 2048


class SecretBox:
    """Encrypts provider credentials and tokens before they are stored."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "secrets-at-rest")))
        self._remembered = functools.lru_cache(maxsize=DECRYPTION_CACHE_SIZE)(self._decrypt)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        if len(ciphertext) > MAX_CACHED_CIPHERTEXT:
            return self._decrypt(ciphertext)
        return self._remembered(ciphertext)

    def remembered(self) -> int:
        """How many decryptions are remembered now."""
        return self._remembered.cache_info().currsize

    def _decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the current key") from exc


class TokenHasher:
    """Keyed hashes for high-entropy bearer secrets (refresh tokens, API keys, invitation tokens,
    one-time codes): a database leak alone does not reveal a usable secret."""

    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "token-hash")

    def hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def matches(self, token: str, digest: str) -> bool:
        return hmac.compare_digest(self.hash(token), digest)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def mask_secret(value: str | None) -> str | None:
    """A non-empty masked form that shows only the last four characters."""
    if not value:
        return None
    tail = value[-4:] if len(value) > 8 else ""
    return "••••••••" + tail
