"""Shared helpers of the user-secrets tests: actors, audit counts and captured SQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditLog
from app.audit.recorder import AuditContext
from app.auth.tokens import load_actor
from app.authz import Actor
from app.crypto.cipher import KEY_BYTES, Keyring
from app.secrets import store
from app.secrets.store import SecretMetadata
from app.users.models import User
from tests.support.factories import make_user

# A value that no other test data contains, so finding it anywhere is a leak.
PLAINTEXT = "plaintext-marker-5f1c9e"


def new_keyring() -> Keyring:
    return Keyring((os.urandom(KEY_BYTES),))


def make_actor(
    session: Session, username: str | None = None, site_roles: tuple[str, ...] = ()
) -> tuple[User, Actor]:
    """Create an active user with the given site roles and return it with its Actor."""
    user = make_user(session, username, site_roles=site_roles)
    return user, load_actor(session, user)


def audit_context(actor: Actor) -> AuditContext:
    return AuditContext(user_id=actor.user_id, api_key_id=None, user_agent="pytest")


def create(
    session: Session,
    actor: Actor,
    keyring: Keyring,
    user_id: uuid.UUID | None = None,
    **fields: Any,
) -> SecretMetadata:
    """Create a secret through the store, with a name and value unless `fields` set them."""
    fields.setdefault("name", f"secret-{uuid.uuid4().hex[:8]}")
    fields.setdefault("value", PLAINTEXT)
    return store.create_secret(
        session, actor, audit_context(actor), keyring, user_id or actor.user_id, fields
    )


def count_audit_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog)) or 0


@contextlib.contextmanager
def captured_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL text of every statement the engine sends inside the block."""
    statements: list[str] = []

    def record(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_on_secrets(statements: list[str], verb: str) -> list[str]:
    """Return the statements that start with `verb` and touch the user_secrets table."""
    return [
        statement
        for statement in statements
        if statement.lstrip().upper().startswith(verb) and "user_secrets" in statement
    ]
