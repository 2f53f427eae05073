"""The value cipher on its own: round trips, tampering, moved ciphertexts and wrong keys."""

from __future__ import annotations

import base64
import string
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.crypto.cipher import (
    DecryptionError,
    KeyUnavailableError,
    secret_associated_data,
    unseal,
)
from tests.crypto.rows import DIGEST_1, DIGEST_3, KEY_1, KEY_2, keyring

SECRET_ID = uuid.UUID("8c0f2a52-3c35-4a9e-9bd6-1b5c4b3f0c11")
USER_ID = uuid.UUID("2b1d6f0e-7a44-4c1b-8f9e-3d5a7c2e9b10")
OTHER_ID = uuid.UUID("f4e3d2c1-b0a9-4877-8665-544332211000")
ASSOCIATED_DATA = secret_associated_data(SECRET_ID, USER_ID)
URLSAFE_ALPHABET = string.ascii_letters + string.digits + "-_"


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param("", id="empty"),
        pytest.param("hunter2", id="ascii"),
        pytest.param("pässwörd 🔑 密码", id="unicode"),
        pytest.param("line one\nline two\r\n\t", id="control-characters"),
        pytest.param("x" * 65536, id="64-KiB"),
    ],
)
def test_cipher_round_trip(plaintext: str) -> None:
    ring = keyring(KEY_1)

    stored, digest = ring.encrypt(plaintext, ASSOCIATED_DATA)

    assert ring.decrypt(stored, digest, ASSOCIATED_DATA) == plaintext


@given(st.text())
def test_cipher_round_trip_any_text(plaintext: str) -> None:
    ring = keyring(KEY_1)

    stored, digest = ring.encrypt(plaintext, ASSOCIATED_DATA)

    assert ring.decrypt(stored, digest, ASSOCIATED_DATA) == plaintext


def test_cipher_encrypt_uses_primary_key() -> None:
    _, digest = keyring(KEY_1, KEY_2).encrypt("value", ASSOCIATED_DATA)

    assert digest == DIGEST_1


def test_cipher_fresh_nonce_each_encryption() -> None:
    ring = keyring(KEY_1)

    first, _ = ring.encrypt("same value", ASSOCIATED_DATA)
    second, _ = ring.encrypt("same value", ASSOCIATED_DATA)

    assert first != second


def test_cipher_stored_text_is_versioned() -> None:
    stored, _ = keyring(KEY_1).encrypt("value", ASSOCIATED_DATA)

    assert stored.startswith("v1:")


def test_cipher_any_changed_character_fails() -> None:
    ring = keyring(KEY_1)
    stored, digest = ring.encrypt("a value of some length", ASSOCIATED_DATA)
    prefix, payload = stored[:3], stored[3:]

    # Every position, replaced by every other character of the alphabet. The last
    # character before the padding carries unused low bits that base64 decoders ignore.
    for position, original in enumerate(payload):
        for replacement in URLSAFE_ALPHABET.replace(original, ""):
            tampered = prefix + payload[:position] + replacement + payload[position + 1 :]
            with pytest.raises(DecryptionError):
                ring.decrypt(tampered, digest, ASSOCIATED_DATA)


def test_cipher_any_flipped_byte_fails() -> None:
    ring = keyring(KEY_1)
    stored, digest = ring.encrypt("a value of some length", ASSOCIATED_DATA)
    raw = base64.urlsafe_b64decode(stored[3:])

    for position in range(len(raw)):
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        tampered = "v1:" + base64.urlsafe_b64encode(bytes(flipped)).decode("ascii")
        with pytest.raises(DecryptionError):
            ring.decrypt(tampered, digest, ASSOCIATED_DATA)


@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("\n", id="newline"),
        pytest.param("=", id="extra-padding"),
        pytest.param("!", id="non-alphabet"),
    ],
)
def test_cipher_non_canonical_payload_fails(suffix: str) -> None:
    ring = keyring(KEY_1)
    stored, digest = ring.encrypt("value", ASSOCIATED_DATA)

    with pytest.raises(DecryptionError):
        ring.decrypt(stored + suffix, digest, ASSOCIATED_DATA)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("", id="empty"),
        pytest.param("plaintext without prefix", id="no-prefix"),
        pytest.param("v1:", id="empty-payload"),
        pytest.param("v1:AAAA", id="shorter-than-nonce-and-tag"),
        pytest.param("v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", id="unknown-version"),
        pytest.param("v1:ÄÖÜ", id="non-ascii"),
    ],
)
def test_cipher_malformed_stored_text_fails(stored: str) -> None:
    with pytest.raises(DecryptionError):
        keyring(KEY_1).decrypt(stored, DIGEST_1, ASSOCIATED_DATA)


@pytest.mark.parametrize(
    ("secret_id", "user_id"),
    [
        pytest.param(OTHER_ID, USER_ID, id="other-secret-same-user"),
        pytest.param(SECRET_ID, OTHER_ID, id="same-secret-other-user"),
        pytest.param(OTHER_ID, OTHER_ID, id="other-secret-other-user"),
    ],
)
def test_cipher_other_associated_data_fails(secret_id: uuid.UUID, user_id: uuid.UUID) -> None:
    ring = keyring(KEY_1)
    stored, digest = ring.encrypt("value", ASSOCIATED_DATA)

    with pytest.raises(DecryptionError):
        ring.decrypt(stored, digest, secret_associated_data(secret_id, user_id))


def test_cipher_wrong_key_fails() -> None:
    stored, _ = keyring(KEY_1).encrypt("value", ASSOCIATED_DATA)

    with pytest.raises(DecryptionError):
        unseal(KEY_2, stored, ASSOCIATED_DATA)


def test_cipher_unconfigured_digest_names_digest() -> None:
    stored, _ = keyring(KEY_1).encrypt("value", ASSOCIATED_DATA)

    with pytest.raises(KeyUnavailableError) as raised:
        keyring(KEY_2).decrypt(stored, DIGEST_1, ASSOCIATED_DATA)

    assert raised.value.digest == DIGEST_1
    assert DIGEST_1 in str(raised.value)


def test_cipher_error_message_has_no_value() -> None:
    ring = keyring(KEY_1)
    stored, digest = ring.encrypt("canary-3f9a1c", ASSOCIATED_DATA)

    with pytest.raises(DecryptionError) as raised:
        ring.decrypt(stored, digest, secret_associated_data(OTHER_ID, USER_ID))

    assert "canary-3f9a1c" not in str(raised.value)
    assert stored not in str(raised.value)


def test_keyring_encrypt_with_decrypt_only_key() -> None:
    ring = keyring(KEY_1, KEY_2)
    digest_2 = ring.digests[1]

    stored = ring.encrypt_with(digest_2, "value", ASSOCIATED_DATA)

    assert ring.decrypt(stored, digest_2, ASSOCIATED_DATA) == "value"
    with pytest.raises(DecryptionError):
        unseal(KEY_1, stored, ASSOCIATED_DATA)


def test_keyring_encrypt_with_unknown_digest_fails() -> None:
    with pytest.raises(KeyUnavailableError):
        keyring(KEY_1).encrypt_with(DIGEST_3, "value", ASSOCIATED_DATA)


def test_keyring_repr_has_no_key_material() -> None:
    ring = keyring(KEY_1)

    assert repr(KEY_1) not in repr(ring)
    assert base64.b64encode(KEY_1).decode() not in repr(ring)
