"""Errors of key management: the start-up key check, revocation and rotation.

Messages name key digests and secret ids, never key material or secret values, so the
CLI prints them as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.crypto.cipher import CryptoError

if TYPE_CHECKING:
    from app.crypto.store import RotationReport

CONFIGURED_KEYS = "USERSECRETS_ENCRYPTION_KEYS (or the data directory's encryption.key)"


class KeyCheckError(CryptoError):
    """The configured keys do not match the database; the service must not start."""


class MissingKeysError(KeyCheckError):
    """Stored rows or active dbcrypt_keys rows name digests that no configured key has."""

    def __init__(self, digests: Iterable[str]) -> None:
        self.digests = tuple(sorted(digests))
        super().__init__(
            f"missing encryption keys: the database needs the keys with digests "
            f"{', '.join(self.digests)}, but {CONFIGURED_KEYS} does not contain them. "
            "Add each missing key after the primary key, where it only decrypts, or run "
            "`usersecrets keys revoke DIGEST` for a key that no stored value uses."
        )


class KeyMismatchError(KeyCheckError):
    """A configured key does not decrypt the test ciphertext recorded for its digest."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(
            f"the configured key with digest {digest} does not decrypt the test ciphertext "
            "recorded for that digest in dbcrypt_keys; the row is corrupt or was edited. "
            "Restore dbcrypt_keys from a backup."
        )


class PrimaryKeyRevokedError(KeyCheckError):
    """The primary key was revoked, so new values must not be encrypted with it."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(
            f"the primary encryption key (digest {digest}) is revoked. Put a new key "
            f"first in {CONFIGURED_KEYS}; create one with `usersecrets keys generate`."
        )


class RevocationError(CryptoError):
    """A key cannot be revoked. The message states why and what to do first."""


class PrimaryKeyRevocationError(RevocationError):
    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(
            f"the key with digest {digest} is the primary key and encrypts new values. "
            "Configure another primary key and run `usersecrets keys rotate` first."
        )


class KeyInUseError(RevocationError):
    def __init__(self, digest: str, rows: int) -> None:
        self.digest = digest
        self.rows = rows
        super().__init__(
            f"{rows} stored values are encrypted with the key with digest {digest}. "
            "Run `usersecrets keys rotate` first."
        )


class UnknownKeyError(RevocationError):
    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(
            f"no key with digest {digest} is recorded in dbcrypt_keys; "
            "`usersecrets keys status` lists the known digests."
        )


class RotationStoppedError(CryptoError):
    """Rotation met a row it cannot decrypt. That row is unchanged; earlier rows stay rotated."""

    def __init__(
        self, secret_id: uuid.UUID, digest: str, report: RotationReport, key_missing: bool
    ) -> None:
        self.secret_id = secret_id
        self.digest = digest
        self.report = report
        cause = (
            f"names the key with digest {digest}, which is not configured"
            if key_missing
            else f"cannot be decrypted with the key with digest {digest}"
        )
        super().__init__(
            f"rotation stopped: the value of user secret {secret_id} {cause}, so that row "
            "was left unchanged. Restore the row or its key, or delete the secret, then run "
            "`usersecrets keys rotate` again."
        )
