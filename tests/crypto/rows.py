"""Helpers of the encryption tests: fixed keys and user_secrets rows written directly.

Each helper opens and commits its own short transaction. On SQLite every transaction
takes the database's write lock, so a test must not keep one open while rotation or a
CLI process runs.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext
from app.auth.tokens import load_actor
from app.authz import Actor
from app.crypto.cipher import KEY_BYTES, Keyring, key_digest, secret_associated_data
from app.crypto.store import StoredValue, decrypt_stored_value
from app.db.base import utcnow
from app.secrets.models import UserSecret
from tests.support.factories import make_user

KEY_1 = bytes([1]) * KEY_BYTES
KEY_2 = bytes([2]) * KEY_BYTES
KEY_3 = bytes([3]) * KEY_BYTES
DIGEST_1 = key_digest(KEY_1)
DIGEST_2 = key_digest(KEY_2)
DIGEST_3 = key_digest(KEY_3)


def keyring(*keys: bytes) -> Keyring:
    return Keyring(tuple(keys))


def encoded(*keys: bytes) -> str:
    """Return keys as USERSECRETS_ENCRYPTION_KEYS expects them."""
    return ",".join(base64.b64encode(key).decode("ascii") for key in keys)


@dataclass(frozen=True)
class SecretOwner:
    id: uuid.UUID
    actor: Actor


def audit_context(actor: Actor) -> AuditContext:
    return AuditContext(user_id=actor.user_id, api_key_id=None, user_agent="pytest")


def create_user(engine: Engine) -> SecretOwner:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        user = make_user(session)
        return SecretOwner(id=user.id, actor=load_actor(session, user))


def insert_secret(
    engine: Engine, ring: Keyring | None, user_id: uuid.UUID, value: str, name: str = ""
) -> uuid.UUID:
    """Insert a secret encrypted with the ring's primary key, or in plaintext without a ring."""
    secret_id = uuid.uuid4()
    stored, digest = value, None
    if ring is not None:
        stored, digest = ring.encrypt(value, secret_associated_data(secret_id, user_id))
    now = utcnow()
    with Session(engine) as session, session.begin():
        session.add(
            UserSecret(
                id=secret_id,
                user_id=user_id,
                name=name or f"secret-{secret_id.hex[:8]}",
                description="",
                value=stored,
                value_key_id=digest,
                env_name="",
                file_path="",
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    return secret_id


def stored_value(engine: Engine, secret_id: uuid.UUID) -> StoredValue:
    with Session(engine) as session, session.begin():
        row = session.execute(
            select(
                UserSecret.id,
                UserSecret.user_id,
                UserSecret.value,
                UserSecret.value_key_id,
                UserSecret.version,
            ).where(UserSecret.id == secret_id)
        ).one()
        return StoredValue(*row)


def read_value(engine: Engine, ring: Keyring, secret_id: uuid.UUID) -> str:
    return decrypt_stored_value(ring, stored_value(engine, secret_id))


def raw_rows(engine: Engine) -> list[dict[str, Any]]:
    """Return every user_secrets row as the database stores it, by plain SQL."""
    with engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM user_secrets ORDER BY id"))
        return [dict(row._mapping) for row in result]


def set_columns(engine: Engine, secret_id: uuid.UUID, **values: Any) -> None:
    """Overwrite columns of one row, bypassing the data layer, as a damaged database would."""
    with engine.begin() as connection:
        connection.execute(update(UserSecret).where(UserSecret.id == secret_id).values(**values))


def scalar(engine: Engine, sql: str, **parameters: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), parameters).scalar()


# Upper bound for the waits of the lock tests; a passing run waits far less.
LOCK_WAIT_TIMEOUT_SECONDS = 30


def signal_first_statement(engine: Engine, sent: threading.Event) -> None:
    """Set `sent` before the first statement that a thread other than the main one sends."""

    def mark(connection: Any, *args: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            sent.set()

    event.listen(engine, "before_cursor_execute", mark)


def wait_until_blocked(engine: Engine, sent: threading.Event) -> None:
    """Wait until the other thread has sent a statement and, on PostgreSQL, waits for a lock.

    On SQLite that statement is the BEGIN IMMEDIATE that waits for the database lock,
    so sending it is as far as the wait can be observed.
    """
    assert sent.wait(LOCK_WAIT_TIMEOUT_SECONDS), "the other thread sent no statement"
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the other thread never waited for a lock")
