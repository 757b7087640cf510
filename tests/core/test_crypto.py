"""Secrets at rest and keyed hashes are bound to ``SECRET_KEY``."""

from __future__ import annotations

import pytest

from cxinbox.core import crypto
from cxinbox.core.crypto import SecretBox, TokenHasher, mask_secret


def test_a_secret_round_trips_and_is_not_stored_in_clear():
    box = SecretBox("key-one")
    ciphertext = box.encrypt("sk-live-123456")
    assert "sk-live-123456" not in ciphertext
    assert box.decrypt(ciphertext) == "sk-live-123456"
    assert box.encrypt("sk-live-123456") != ciphertext  # a fresh nonce each time
    assert SecretBox("key-one").decrypt(ciphertext) == "sk-live-123456"  # the key is all it needs


def test_another_secret_key_cannot_decrypt():
    ciphertext = SecretBox("key-one").encrypt("sk-live-123456")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox("key-two").decrypt(ciphertext)


def test_a_tampered_ciphertext_is_refused():
    box = SecretBox("key-one")
    ciphertext = box.encrypt("sk-live-123456")
    tampered = ciphertext[:-6] + ("A" if ciphertext[-6] != "A" else "B") + ciphertext[-5:]
    with pytest.raises(ValueError):
        box.decrypt(tampered)
    with pytest.raises(ValueError):
        box.decrypt("not a ciphertext")


def test_token_hashes_depend_on_the_secret_key():
    hasher = TokenHasher("key-one")
    digest = hasher.hash("refresh-token")
    assert hasher.matches("refresh-token", digest)
    assert not hasher.matches("other-token", digest)
    assert TokenHasher("key-two").hash("refresh-token") != digest


@pytest.mark.parametrize(
    ("value", "masked"), [(None, None), ("", None), ("short", "••••••••"), ("sk-1234567890", "••••••••7890")]
)
def test_mask_secret_shows_at_most_the_last_four_characters(value, masked):
    assert mask_secret(value) == masked


def test_decryptions_are_remembered_by_ciphertext_and_a_changed_secret_is_a_new_one():
    box = SecretBox("key-one")
    first = box.encrypt("sk-live-123456")
    assert box.decrypt(first) == box.decrypt(first) == "sk-live-123456"
    assert box.remembered() == 1
    changed = box.encrypt("sk-live-654321")  # what an update stores: a new ciphertext
    assert box.decrypt(changed) == "sk-live-654321"
    assert box.decrypt(first) == "sk-live-123456"
    assert box.remembered() == 2


def test_the_remembered_decryptions_are_bounded_and_failures_and_long_texts_are_not_remembered():
    box = SecretBox("key-one")
    for n in range(crypto.DECRYPTION_CACHE_SIZE + 10):
        assert box.decrypt(box.encrypt(f"secret-{n}")) == f"secret-{n}"
    assert box.remembered() == crypto.DECRYPTION_CACHE_SIZE
    other = SecretBox("key-two").encrypt("sk-live-123456")
    for _ in range(2):  # refused each time, not remembered as an answer
        with pytest.raises(ValueError, match="cannot be decrypted"):
            box.decrypt(other)
    fresh = SecretBox("key-one")
    body = "x" * crypto.MAX_CACHED_CIPHERTEXT  # a mail body, say: its ciphertext is longer still
    assert fresh.decrypt(fresh.encrypt(body)) == body
    assert fresh.remembered() == 0
