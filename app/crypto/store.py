"""Key bookkeeping in dbcrypt_keys, the start-up key check, rotation and revocation.

These functions serve the operator's commands (`usersecrets serve` and `usersecrets
keys ...`), which run with direct database access and on no user's behalf, so they take
no actor and check no policy.

Rotation re-encrypts a value with the primary key but leaves `version` and `updated_at`
alone: the value did not change for its user, and a client holding the secret's ETag
must not see a conflict because an operator rotated keys. The update is guarded by
the old ciphertext, key digest and version instead (see `rotate_row`). Rotation writes
no audit rows for the same reason. It logs counts instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Engine, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.crypto.cipher import (
    DecryptionError,
    Keyring,
    KeyUnavailableError,
    secret_associated_data,
)
from app.crypto.errors import (
    KeyInUseError,
    KeyMismatchError,
    MissingKeysError,
    PrimaryKeyRevocationError,
    PrimaryKeyRevokedError,
    RotationStoppedError,
    UnknownKeyError,
)
from app.crypto.models import DbcryptKey
from app.db.base import utcnow
from app.secrets.models import UserSecret

log = logging.getLogger(__name__)

# The known plaintext of every test ciphertext in dbcrypt_keys.
KEY_CHECK_PLAINTEXT = "usersecrets dbcrypt key check"

# Rows per rotation transaction. Each batch holds its row locks (PostgreSQL) or the
# database write lock (SQLite) until it commits, so batches stay small enough for the
# server's own writes to get through between them.
DEFAULT_BATCH_SIZE = 100


def key_check_associated_data(digest: str) -> bytes:
    return b"usersecrets dbcrypt_keys test_ciphertext " + digest.encode("ascii")


# -- The start-up check -------------------------------------------------------------


def referenced_digests(session: Session) -> set[str]:
    """Return the digests of every key that some stored value is encrypted with."""
    digests = session.scalars(
        select(UserSecret.value_key_id).where(UserSecret.value_key_id.is_not(None)).distinct()
    )
    return {digest for digest in digests if digest is not None}


def active_digests(session: Session) -> set[str]:
    """Return the digests recorded in dbcrypt_keys and not revoked."""
    return set(session.scalars(select(DbcryptKey.digest).where(DbcryptKey.revoked_at.is_(None))))


def find_missing_digests(session: Session, keyring: Keyring) -> list[str]:
    """Return the digests that stored rows or active keys need but the keyring lacks."""
    needed = referenced_digests(session) | active_digests(session)
    return sorted(digest for digest in needed if not keyring.has(digest))


def check_and_record_keys(session: Session, keyring: Keyring) -> list[str]:
    """Check the configured keys against the database, then record the new ones.

    Raises KeyMismatchError when a configured key does not decrypt the test ciphertext
    of its digest, and PrimaryKeyRevokedError when the primary key was revoked. Raises
    MissingKeysError when a stored row or an active dbcrypt_keys row names a digest
    that no configured key has. The checks only read, so a failed check writes nothing.

    Returns the digests recorded by this call, primary first. The caller commits.
    """
    recorded = {
        row.digest: row
        for row in session.scalars(select(DbcryptKey).where(DbcryptKey.digest.in_(keyring.digests)))
    }
    for row in recorded.values():
        _verify_test_ciphertext(keyring, row)
    primary = recorded.get(keyring.primary_digest)
    if primary is not None and primary.revoked_at is not None:
        raise PrimaryKeyRevokedError(primary.digest)
    missing = find_missing_digests(session, keyring)
    if missing:
        raise MissingKeysError(missing)

    added: list[str] = []
    for digest in keyring.digests:
        if digest not in recorded and _record_key(session, keyring, digest):
            added.append(digest)
    return added


def _verify_test_ciphertext(keyring: Keyring, row: DbcryptKey) -> None:
    # The digest is a hash of the key, so a configured key whose digest matches is the
    # recorded key. A failure here means the recorded row is damaged or was edited.
    try:
        plaintext = keyring.decrypt(
            row.test_ciphertext, row.digest, key_check_associated_data(row.digest)
        )
    except DecryptionError:
        raise KeyMismatchError(row.digest) from None
    if plaintext != KEY_CHECK_PLAINTEXT:
        raise KeyMismatchError(row.digest)


def _record_key(session: Session, keyring: Keyring, digest: str) -> bool:
    """Insert the dbcrypt_keys row of a configured key; return False if another process did."""
    row = DbcryptKey(
        digest=digest,
        activated_at=utcnow(),
        revoked_at=None,
        test_ciphertext=keyring.encrypt_with(
            digest, KEY_CHECK_PLAINTEXT, key_check_associated_data(digest)
        ),
    )
    # Two servers starting at once may both record the same new key. On PostgreSQL the
    # second insert waits for the first transaction and then violates the primary key.
    # The savepoint keeps that violation from aborting the whole transaction.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = session.get(DbcryptKey, digest, populate_existing=True)
        if existing is None:
            raise
        _verify_test_ciphertext(keyring, existing)
        return False
    role = "primary" if digest == keyring.primary_digest else "decrypt-only"
    log.info("recorded encryption key digest=%s role=%s", digest, role)
    return True


# -- Status -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    """One key digest, its state and how many stored values it encrypts."""

    digest: str
    state: str
    rows: int


@dataclass(frozen=True)
class KeyringStatus:
    """Every digest that is configured, recorded or used by a row; primary first."""

    keys: tuple[KeyStatus, ...]
    plaintext_rows: int


def keyring_status(session: Session, keyring: Keyring) -> KeyringStatus:
    """Describe each digest as primary, decrypt-only, revoked or missing, with row counts.

    A digest that is not configured is "missing" when rows use it or it is not revoked,
    because the start-up check then requires it. Otherwise it is "revoked".
    """
    counts: dict[str | None, int] = {
        digest: count
        for digest, count in session.execute(
            select(UserSecret.value_key_id, func.count()).group_by(UserSecret.value_key_id)
        )
    }
    plaintext_rows = counts.pop(None, 0)
    revoked = {
        row.digest: row.revoked_at is not None for row in session.scalars(select(DbcryptKey))
    }

    others = sorted((set(revoked) | {d for d in counts if d is not None}) - set(keyring.digests))
    keys: list[KeyStatus] = []
    for digest in [*keyring.digests, *others]:
        rows = counts.get(digest, 0)
        if digest == keyring.primary_digest:
            state = "primary"
        elif keyring.has(digest):
            state = "revoked" if revoked.get(digest, False) else "decrypt-only"
        elif rows == 0 and revoked.get(digest, False):
            state = "revoked"
        else:
            state = "missing"
        keys.append(KeyStatus(digest=digest, state=state, rows=rows))
    return KeyringStatus(keys=tuple(keys), plaintext_rows=plaintext_rows)


# -- Revocation ---------------------------------------------------------------------


def revoke_key(session: Session, keyring: Keyring, digest: str) -> dt.datetime:
    """Mark a recorded key revoked and return its revoked_at.

    The start-up check no longer requires a revoked key to be configured. Raises
    PrimaryKeyRevocationError for the configured primary key, KeyInUseError while stored
    values are encrypted with the key, and UnknownKeyError for a digest that dbcrypt_keys
    does not contain. Revoking a revoked key keeps its first revoked_at.

    NOTE: a server still configured with this key as its primary can write new rows
    with it after the count below. Once the key is removed from the configuration, the
    start-up check names its digest as missing because those rows use it, so the
    operator learns of them while the key still exists somewhere.
    """
    if digest == keyring.primary_digest:
        raise PrimaryKeyRevocationError(digest)
    rows = session.scalar(
        select(func.count()).select_from(UserSecret).where(UserSecret.value_key_id == digest)
    )
    if rows:
        raise KeyInUseError(digest, rows)
    row = session.get(DbcryptKey, digest, with_for_update=True)
    if row is None:
        raise UnknownKeyError(digest)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        log.info("revoked encryption key digest=%s", digest)
    return row.revoked_at


# -- Rotation -----------------------------------------------------------------------


@dataclass
class RotationReport:
    """Counts of one rotation run; the CLI prints them."""

    # Rows re-encrypted from another key to the primary key.
    reencrypted: int = 0
    # Plaintext rows (value_key_id NULL) encrypted with the primary key.
    encrypted: int = 0
    # Rows that another writer changed or deleted between the read and the update. A
    # changed row keeps the value that writer stored.
    skipped: int = 0
    batches: int = 0
    # True when max_batches ended the run before every row was visited.
    stopped_early: bool = False
    # Rows not on the primary key when the run ended.
    remaining: int = 0


@dataclass(frozen=True)
class StoredValue:
    """The columns of one user_secrets row that rotation reads and guards on."""

    id: uuid.UUID
    user_id: uuid.UUID
    value: str
    value_key_id: str | None
    version: int


def decrypt_stored_value(keyring: Keyring, stored: StoredValue) -> str:
    """Return the plaintext of a row; a NULL value_key_id marks a plaintext row.

    Raises KeyUnavailableError or DecryptionError, never returning a partial value.
    """
    if stored.value_key_id is None:
        return stored.value
    associated_data = secret_associated_data(stored.id, stored.user_id)
    return keyring.decrypt(stored.value, stored.value_key_id, associated_data)


def not_on_primary(keyring: Keyring) -> ColumnElement[bool]:
    """Return the SQL condition for rows that rotation still has to visit."""
    return or_(
        UserSecret.value_key_id.is_(None),
        UserSecret.value_key_id != keyring.primary_digest,
    )


def count_not_on_primary(session: Session, keyring: Keyring) -> int:
    count = session.scalar(
        select(func.count()).select_from(UserSecret).where(not_on_primary(keyring))
    )
    return count or 0


def select_rotation_batch(
    session: Session, keyring: Keyring, after: uuid.UUID | None, limit: int
) -> list[StoredValue]:
    """Return up to `limit` rows not on the primary key with ids above `after`, by id."""
    query = select(
        UserSecret.id,
        UserSecret.user_id,
        UserSecret.value,
        UserSecret.value_key_id,
        UserSecret.version,
    ).where(not_on_primary(keyring))
    if after is not None:
        query = query.where(UserSecret.id > after)
    rows = session.execute(query.order_by(UserSecret.id).limit(limit))
    return [StoredValue(*row) for row in rows]


def rotate_row(session: Session, keyring: Keyring, stored: StoredValue) -> bool:
    """Re-encrypt one row with the primary key; return False if another writer changed it.

    The update applies only while the row still has the ciphertext, key digest and
    version that were read. Every encryption uses a fresh random nonce, so a rewrite of
    the row never reproduces the old ciphertext, and a concurrent write is never
    overwritten with the stale value. Raises KeyUnavailableError or DecryptionError
    and leaves the row unchanged when the value cannot be decrypted.
    """
    plaintext = decrypt_stored_value(keyring, stored)
    value, digest = keyring.encrypt(plaintext, secret_associated_data(stored.id, stored.user_id))
    statement = (
        update(UserSecret)
        .where(
            UserSecret.id == stored.id,
            UserSecret.version == stored.version,
            UserSecret.value == stored.value,
            UserSecret.value_key_id.is_not_distinct_from(stored.value_key_id),
        )
        .values(value=value, value_key_id=digest)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1


def rotate_values(
    engine: Engine,
    keyring: Keyring,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int | None = None,
    after_batch: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Re-encrypt every stored value that is not on the primary key, batch by batch.

    Each batch is its own transaction, so an interrupted run keeps the batches it
    committed, and a rerun continues with the rows still left. One pass visits the
    rows in id order. Rows that a writer using another key changes behind the pass
    stay on that key and are counted in `remaining`.

    `after_batch` runs after each commit with the counts so far. When a row cannot be
    decrypted, the rows before it in its batch are committed, that row is left as it
    was, and RotationStoppedError names its id.
    """
    report = RotationReport()
    after: uuid.UUID | None = None
    while True:
        if max_batches is not None and report.batches >= max_batches:
            report.stopped_early = True
            break
        with Session(engine, expire_on_commit=False) as session, session.begin():
            batch = select_rotation_batch(session, keyring, after, batch_size)
            if not batch:
                break
            failure = _rotate_batch(session, keyring, batch, report)
            after = batch[-1].id
        report.batches += 1

        if failure is not None:
            with Session(engine) as session, session.begin():
                report.remaining = count_not_on_primary(session, keyring)
            log.error(
                "key rotation stopped secret_id=%s key_digest=%s",
                failure.secret_id,
                failure.digest,
            )
            raise failure
        log.info(
            "key rotation batch=%d reencrypted=%d encrypted=%d skipped=%d",
            report.batches,
            report.reencrypted,
            report.encrypted,
            report.skipped,
        )
        if after_batch is not None:
            after_batch(report)

    with Session(engine) as session, session.begin():
        report.remaining = count_not_on_primary(session, keyring)
    return report


def _rotate_batch(
    session: Session, keyring: Keyring, batch: list[StoredValue], report: RotationReport
) -> RotationStoppedError | None:
    """Rotate the rows of a batch in order, stopping at the first that cannot be decrypted.

    Returns the error for that row, or None. Either way the caller commits the rows
    rotated so far.
    """
    for stored in batch:
        try:
            updated = rotate_row(session, keyring, stored)
        except (DecryptionError, KeyUnavailableError) as error:
            return RotationStoppedError(
                stored.id,
                stored.value_key_id or "",
                report,
                key_missing=isinstance(error, KeyUnavailableError),
            )
        _count(report, stored, updated)
    return None


def _count(report: RotationReport, stored: StoredValue, updated: bool) -> None:
    if not updated:
        report.skipped += 1
    elif stored.value_key_id is None:
        report.encrypted += 1
    else:
        report.reencrypted += 1
