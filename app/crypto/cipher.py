"""AES-256-GCM encryption of secret values, bound to the row they belong to.

Stored format, version 1: "v1:" + urlsafe base64 of (12-byte nonce || ciphertext || tag).
The associated data names the format, the secret's id and its user's id, so a
ciphertext copied to another row, or to another user, fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_V1 = "v1"
_DIGEST_LABEL = b"usersecrets dbcrypt key digest v1\x00"


class CryptoError(Exception):
    """Base class for encryption errors. Messages never contain key material or values."""


class DecryptionError(CryptoError):
    """A stored value could not be decrypted: wrong key, tampered or moved ciphertext.

    One error for every cause, so a caller learns nothing about which check failed.
    """


class KeyUnavailableError(CryptoError):
    """A row names a key digest that no configured key has."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"no configured encryption key has digest {digest}")
        self.digest = digest


def key_digest(key: bytes) -> str:
    """Return the hex SHA-256 of a label and the key: an id that reveals nothing of it."""
    return hashlib.sha256(_DIGEST_LABEL + key).hexdigest()


def secret_associated_data(secret_id: uuid.UUID, user_id: uuid.UUID) -> bytes:
    return b"usersecrets user_secret " + FORMAT_V1.encode() + secret_id.bytes + user_id.bytes


def seal(key: bytes, plaintext: str, associated_data: bytes) -> str:
    """Encrypt `plaintext` with `key` and a fresh random nonce; return the stored text."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated_data)
    return f"{FORMAT_V1}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, stored: str, associated_data: bytes) -> str:
    """Decrypt text made by `seal`, raising DecryptionError on any mismatch.

    The payload must be the canonical base64 of its bytes. Base64 decoders skip some
    characters and ignore the unused low bits of the last one, so without this check an
    edited stored text could still decrypt.
    """
    version, separator, payload = stored.partition(":")
    if version != FORMAT_V1 or not separator:
        raise DecryptionError("cannot decrypt the value: unknown stored format")
    try:
        raw = base64.urlsafe_b64decode(payload)
        if base64.urlsafe_b64encode(raw).decode("ascii") != payload:
            raise DecryptionError("cannot decrypt the value")
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("cannot decrypt the value")
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        plaintext = AESGCM(key).decrypt(nonce, sealed, associated_data)
        return plaintext.decode()
    except (InvalidTag, binascii.Error, ValueError, UnicodeError):
        raise DecryptionError("cannot decrypt the value") from None


@dataclass(frozen=True)
class Keyring:
    """Encryption keys, the first one primary: it encrypts, the others only decrypt."""

    keys: tuple[bytes, ...] = field(repr=False)
    digests: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")
        for index, key in enumerate(self.keys):
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {index + 1} is {len(key)} bytes; keys are {KEY_BYTES} bytes")
        object.__setattr__(self, "digests", tuple(key_digest(key) for key in self.keys))
        if len(set(self.digests)) != len(self.digests):
            raise ValueError("the same key is configured twice")

    @property
    def primary_digest(self) -> str:
        return self.digests[0]

    def has(self, digest: str) -> bool:
        return digest in self.digests

    def encrypt(self, plaintext: str, associated_data: bytes) -> tuple[str, str]:
        """Encrypt with the primary key; return (stored text, digest of the key used)."""
        return seal(self.keys[0], plaintext, associated_data), self.primary_digest

    def encrypt_with(self, digest: str, plaintext: str, associated_data: bytes) -> str:
        """Encrypt with the key that has `digest`, primary or not; return the stored text.

        Only key bookkeeping needs this, to store a test ciphertext for each key. Values
        are encrypted with `encrypt`, which always uses the primary key.
        """
        return seal(self._key(digest), plaintext, associated_data)

    def decrypt(self, stored: str, digest: str, associated_data: bytes) -> str:
        """Decrypt a value stored by `encrypt`, raising KeyUnavailableError or DecryptionError."""
        return unseal(self._key(digest), stored, associated_data)

    def _key(self, digest: str) -> bytes:
        if digest not in self.digests:
            raise KeyUnavailableError(digest)
        return self.keys[self.digests.index(digest)]
