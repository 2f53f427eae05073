"""Authorized reads and writes of user secrets.

Every function takes the acting user and asks the policy before it returns data or
writes. A user secret belongs to its user and to no organization, and the policy lets
only that user (relation `self`) act on it: any other actor gets Forbidden, whatever
site or organization roles it holds. Secrets are addressed by (user id, name).

Values are encrypted with the keyring before they reach the database and are bound to
their row by the associated data. The metadata reads never select the value column.
Every mutation records one audit row in the caller's transaction. Nothing here commits:
the caller commits after success, or rolls back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, record_change, snapshot
from app.authz import Actor, Target, authorize
from app.crypto.cipher import Keyring, secret_associated_data
from app.db.base import utcnow
from app.db.errors import violated_unique_constraint
from app.secrets.errors import InvalidSecret, PreconditionFailed, SecretConflict, SecretNotFound
from app.secrets.models import UNIQUE_INDEX_FIELDS, UserSecret
from app.secrets.validation import (
    CHANGEABLE_FIELDS,
    is_valid_name,
    validate_new_secret,
    validate_secret_changes,
)

RESOURCE_TYPE = "user_secret"

_TABLE: Table = UserSecret.metadata.tables[UserSecret.__tablename__]

# Everything the API may show about a secret. The value and its key id stay out, so
# that a metadata query cannot carry a value even by mistake.
_METADATA_COLUMNS = (
    UserSecret.id,
    UserSecret.user_id,
    UserSecret.name,
    UserSecret.description,
    UserSecret.env_name,
    UserSecret.file_path,
    UserSecret.version,
    UserSecret.created_at,
    UserSecret.updated_at,
)


@dataclass(frozen=True)
class SecretMetadata:
    """Everything about a secret except its value."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    description: str
    env_name: str
    file_path: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class SecretWithValue:
    """A secret's metadata and its decrypted value, for injection into a process."""

    metadata: SecretMetadata
    value: str = field(repr=False)


def secret_target(user_id: uuid.UUID) -> Target:
    """Describe a secret of `user_id` for the policy: owned by that user, in no organization."""
    return Target(RESOURCE_TYPE, owner_id=user_id)


def get_secret(session: Session, actor: Actor, user_id: uuid.UUID, name: str) -> SecretMetadata:
    """Return the metadata of the user's secret `name`.

    Raises SecretNotFound when the user has no such secret, and Forbidden when the actor
    may not read it. Callers that must not reveal whether a secret exists report both
    the same way.
    """
    if not is_valid_name(name):
        raise SecretNotFound(name)
    row = session.execute(
        select(*_METADATA_COLUMNS).where(UserSecret.user_id == user_id, UserSecret.name == name)
    ).one_or_none()
    if row is None:
        raise SecretNotFound(name)
    authorize(actor, "read", secret_target(row.user_id))
    return _metadata_from_row(row)


def list_secret_metadata(
    session: Session, actor: Actor, user_id: uuid.UUID
) -> list[SecretMetadata]:
    """Return the metadata of all the user's secrets, sorted by name in code point order.

    Makes one policy decision for the whole list and raises Forbidden when the actor
    may not read the user's secrets. The query selects no value column.
    """
    authorize(actor, "read", secret_target(user_id))
    rows = session.execute(select(*_METADATA_COLUMNS).where(UserSecret.user_id == user_id))
    # Sorted here rather than in SQL: PostgreSQL orders text by the database's locale,
    # SQLite by bytes, and both databases must list secrets in the same order.
    return sorted((_metadata_from_row(row) for row in rows), key=lambda secret: secret.name)


def list_secrets_with_values(
    session: Session, actor: Actor, keyring: Keyring, user_id: uuid.UUID
) -> list[SecretWithValue]:
    """Return all the user's secrets with decrypted values, sorted by name.

    For injecting secrets into a process, never for API responses. Makes one policy
    decision and raises Forbidden when the actor may not read the user's secrets.
    Raises KeyUnavailableError or DecryptionError from app.crypto when a value cannot
    be decrypted.
    """
    authorize(actor, "read", secret_target(user_id))
    rows = session.execute(
        select(*_METADATA_COLUMNS, UserSecret.value, UserSecret.value_key_id).where(
            UserSecret.user_id == user_id
        )
    )
    secrets = [
        SecretWithValue(_metadata_from_row(row), _decrypt_value(keyring, row)) for row in rows
    ]
    return sorted(secrets, key=lambda secret: secret.metadata.name)


def create_secret(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    keyring: Keyring,
    user_id: uuid.UUID,
    fields: Mapping[str, object],
) -> SecretMetadata:
    """Create a secret for `user_id` from `fields` and return its metadata.

    `fields` contains name and value, and optionally description, env_name and file_path
    (empty when absent). Raises Forbidden when the actor may not create the user's
    secrets, InvalidSecret listing every failing field, and SecretConflict naming the
    field when another secret of the user has the same name, env_name or file_path.
    """
    authorize(actor, "create", secret_target(user_id))
    violations = validate_new_secret(fields)
    if violations:
        raise InvalidSecret(violations)

    # The id exists before the insert because the ciphertext's associated data binds it.
    secret_id = uuid.uuid4()
    stored_value, key_id = keyring.encrypt(
        _text(fields, "value"), secret_associated_data(secret_id, user_id)
    )
    now = utcnow()
    secret = UserSecret(
        id=secret_id,
        user_id=user_id,
        name=_text(fields, "name"),
        description=_text(fields, "description"),
        value=stored_value,
        value_key_id=key_id,
        env_name=_text(fields, "env_name"),
        file_path=_text(fields, "file_path"),
        version=1,
        created_at=now,
        updated_at=now,
    )
    try:
        # The savepoint keeps the caller's transaction usable after a unique violation.
        with session.begin_nested():
            session.add(secret)
    except IntegrityError as error:
        conflict = _unique_conflict(error)
        if conflict is None:
            raise
        raise conflict from None

    record_change(
        session,
        audit,
        action="create",
        model=UserSecret,
        resource_id=str(secret.id),
        target=secret.name,
        owner_id=user_id,
        new=snapshot(secret),
    )
    return _metadata_from_secret(secret)


def update_secret(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    keyring: Keyring,
    user_id: uuid.UUID,
    name: str,
    changes: Mapping[str, object],
    expected_version: int | None = None,
) -> SecretMetadata:
    """Change the given fields of the user's secret `name` and return its new metadata.

    `changes` contains any of value, description, env_name and file_path. A field that is
    absent keeps its value and an empty string clears it, except that the value cannot
    be empty. All changes, the new version and updated_at go to the database in one
    UPDATE statement, which also checks `expected_version` when one is given.

    Raises Forbidden when the actor may not update the user's secrets, InvalidSecret
    for invalid or missing changes, SecretNotFound, PreconditionFailed when the secret's
    version is not `expected_version`, and SecretConflict for a duplicate env_name or
    file_path.
    """
    authorize(actor, "update", secret_target(user_id))
    violations = validate_secret_changes(changes)
    if violations:
        raise InvalidSecret(violations)
    if not changes:
        raise InvalidSecret([], f"Send at least one of: {', '.join(CHANGEABLE_FIELDS)}.")
    if not is_valid_name(name):
        raise SecretNotFound(name)

    # Read the row for the audit diff and lock it until the transaction ends, so no other
    # writer changes it between this read and the UPDATE. SQLite renders no FOR UPDATE,
    # but there every transaction already holds the database's write lock (see
    # app/db/engine.py).
    secret = session.scalars(
        select(UserSecret)
        .where(UserSecret.user_id == user_id, UserSecret.name == name)
        .with_for_update()
    ).one_or_none()
    if secret is None:
        raise SecretNotFound(name)
    old = snapshot(secret)

    values: dict[str, Any] = {field: _text(changes, field) for field in changes}
    if "value" in changes:
        values["value"], values["value_key_id"] = keyring.encrypt(
            _text(changes, "value"), secret_associated_data(secret.id, user_id)
        )
    conditions = [UserSecret.id == secret.id]
    if expected_version is not None:
        conditions.append(UserSecret.version == expected_version)
    statement = (
        update(UserSecret)
        .where(*conditions)
        .values(**values, version=UserSecret.version + 1, updated_at=utcnow())
        .returning(UserSecret.version)
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            new_version = session.scalars(statement).one_or_none()
    except IntegrityError as error:
        conflict = _unique_conflict(error)
        if conflict is None:
            raise
        raise conflict from None
    if new_version is None:
        # The row is locked and was just read, so only the version check can have failed.
        raise PreconditionFailed(expected_version if expected_version is not None else 0)

    session.refresh(secret)
    record_change(
        session,
        audit,
        action="write",
        model=UserSecret,
        resource_id=str(secret.id),
        target=secret.name,
        owner_id=user_id,
        old=old,
        new=snapshot(secret),
    )
    return _metadata_from_secret(secret)


def delete_secret(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    user_id: uuid.UUID,
    name: str,
    expected_version: int | None = None,
) -> None:
    """Delete the user's secret `name`, if its version is `expected_version` when given.

    Whether a row was deleted comes from the DELETE statement itself, so of two
    concurrent deletes of one secret exactly one succeeds. Raises Forbidden when the
    actor may not delete the user's secrets, SecretNotFound when nothing was deleted,
    and PreconditionFailed when the secret exists at another version.
    """
    authorize(actor, "delete", secret_target(user_id))
    if not is_valid_name(name):
        raise SecretNotFound(name)

    conditions = [_TABLE.c.user_id == user_id, _TABLE.c.name == name]
    if expected_version is not None:
        conditions.append(_TABLE.c.version == expected_version)
    deleted = session.execute(delete(_TABLE).where(*conditions).returning(*_TABLE.c)).one_or_none()
    if deleted is None:
        if expected_version is not None and _secret_exists(session, user_id, name):
            raise PreconditionFailed(expected_version)
        raise SecretNotFound(name)

    old = dict(deleted._mapping)
    record_change(
        session,
        audit,
        action="delete",
        model=UserSecret,
        resource_id=str(old["id"]),
        target=name,
        owner_id=user_id,
        old=old,
    )


def _secret_exists(session: Session, user_id: uuid.UUID, name: str) -> bool:
    found = session.scalar(
        select(UserSecret.id).where(UserSecret.user_id == user_id, UserSecret.name == name)
    )
    return found is not None


def _text(fields: Mapping[str, object], key: str) -> str:
    # Only called on validated fields, where every present field is a string.
    value = fields.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _decrypt_value(keyring: Keyring, row: Row[*tuple[Any, ...]]) -> str:
    if row.value_key_id is None:
        # A NULL key id marks a value stored in plaintext, before encryption was enabled.
        value: str = row.value
        return value
    return keyring.decrypt(row.value, row.value_key_id, secret_associated_data(row.id, row.user_id))


def _metadata_from_row(row: Row[*tuple[Any, ...]]) -> SecretMetadata:
    return SecretMetadata(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        description=row.description,
        env_name=row.env_name,
        file_path=row.file_path,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _metadata_from_secret(secret: UserSecret) -> SecretMetadata:
    return SecretMetadata(
        id=secret.id,
        user_id=secret.user_id,
        name=secret.name,
        description=secret.description,
        env_name=secret.env_name,
        file_path=secret.file_path,
        version=secret.version,
        created_at=secret.created_at,
        updated_at=secret.updated_at,
    )


def _unique_conflict(error: IntegrityError) -> SecretConflict | None:
    """Return SecretConflict for a violated unique index of user_secrets, else None."""
    index_name = violated_unique_constraint(error)
    conflict_field = UNIQUE_INDEX_FIELDS.get(index_name or "")
    if conflict_field is None:
        return None
    return SecretConflict(conflict_field)
