"""Who may sign which part of a webhook body, and what a signature covers.

Meta signs each body with the secret of the app the numbers and WhatsApp Business Accounts in it are
subscribed to: an account's own app secret when it has one, else the platform's
``META_APP_SECRET`` (which also signs for numbers and accounts no organization has connected). A
body names its signing keys (its numbers and accounts); each key has its signers (a secret, and the
numbers that secret vouches for under that key). The signature scope of a body is the numbers of
every signer whose secret signed it: a tenant's own secret vouches for its own numbers only, never
for another's named in the same body.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.whatsapp.payload import phone_number_ids, waba_ids
from cxinbox.whatsapp.signature import signature_matches

WABA_KEY = "waba:"
#: the key of a body that names no number and no account (malformed, or about nothing): only the
#: platform's secret signs it
NOTHING_KEY = "body:"

#: a key's signers: (secret, the numbers it vouches for)
Signers = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SigningKeys:
    """What names the signers of a body: its phone numbers and its WhatsApp Business Accounts."""

    numbers: list[str]
    wabas: list[str]

    @property
    def cache_keys(self) -> list[str]:
        return self.numbers + [WABA_KEY + waba for waba in self.wabas] or [NOTHING_KEY]

    @property
    def count(self) -> int:
        return len(self.numbers) + len(self.wabas)


def signing_keys(payload: dict[str, Any] | None) -> SigningKeys:
    return SigningKeys(phone_number_ids(payload), waba_ids(payload))


def signers_of(
    keys: SigningKeys,
    by_number: Mapping[str, WhatsAppAccount],
    by_waba: Iterable[WhatsAppAccount],
    *,
    platform: str | None,
    decrypt: Callable[[str], str],
) -> dict[str, tuple[bool, Signers]]:
    """Each key's signers, and whether the number or account exists, from the live accounts the keys
    name."""

    def secret_of(account: WhatsAppAccount) -> str | None:
        own = account.app_secret_encrypted
        return decrypt(own) if own else platform

    found: dict[str, tuple[bool, Signers]] = {}
    for number in keys.numbers:
        account = by_number.get(number)
        secret = secret_of(account) if account is not None else platform
        found[number] = (account is not None, ((secret, (number,)),) if secret else ())
    accounts: dict[str, list[WhatsAppAccount]] = defaultdict(list)
    for account in by_waba:
        accounts[account.waba_id].append(account)
    for waba in keys.wabas:
        vouched: dict[str, list[str]] = defaultdict(list)
        for account in accounts.get(waba, []):
            if secret := secret_of(account):
                vouched[secret].append(account.phone_number_id)
        if not accounts.get(waba) and platform:
            vouched[platform] = []
        found[WABA_KEY + waba] = (
            bool(accounts.get(waba)),
            tuple((secret, tuple(numbers)) for secret, numbers in vouched.items()),
        )
    if not keys.count:
        found[NOTHING_KEY] = (False, ((platform, ()),) if platform else ())
    return found


def signature_scope(
    header: str | None, body: bytes, signers: Mapping[str, Signers], *, every_key: bool = False
) -> list[str] | None:
    """The numbers vouched for by the signers whose secret signed ``body``, in order; None when no
    secret did (or, with ``every_key``, when some key has no signer that did)."""
    secrets = {secret for key_signers in signers.values() for secret, _ in key_signers}
    signed = {secret for secret in secrets if signature_matches(header, body, [secret])}
    if not signed:
        return None
    if every_key and not all(any(s in signed for s, _ in key) for key in signers.values()):
        return None
    scope: dict[str, None] = {}
    for key_signers in signers.values():
        for secret, numbers in key_signers:
            if secret in signed:
                scope.update(dict.fromkeys(numbers))
    return list(scope)
