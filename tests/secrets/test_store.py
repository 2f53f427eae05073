"""The user-secrets data layer on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from app.audit.models import AuditLog
from app.auth.tokens import load_actor
from app.authz import Actor, Forbidden, count_decisions
from app.crypto.cipher import DecryptionError, Keyring
from app.secrets import store
from app.secrets.errors import InvalidSecret, PreconditionFailed, SecretConflict, SecretNotFound
from app.secrets.models import UserSecret
from app.users.models import User
from tests.secrets.helpers import (
    PLAINTEXT,
    audit_context,
    captured_statements,
    count_audit_rows,
    create,
    make_actor,
    new_keyring,
    statements_on_secrets,
)
from tests.support.factories import add_member, make_org

OLD_TIME = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def keyring() -> Keyring:
    return new_keyring()


def stored_row(session: Session, secret_id: uuid.UUID) -> Any:
    """Read the raw columns of a secret, bypassing the store."""
    return session.execute(
        select(UserSecret.value, UserSecret.value_key_id, UserSecret.version).where(
            UserSecret.id == secret_id
        )
    ).one()


# --- create and read ---------------------------------------------------------------


def test_create_secret_returns_metadata(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")

    secret = create(
        session,
        alice,
        keyring,
        name="db password",
        description="staging database",
        env_name="DB_PASSWORD",
        file_path="~/.config/db/password",
    )

    assert secret.name == "db password"
    assert secret.user_id == alice.user_id
    assert secret.description == "staging database"
    assert secret.env_name == "DB_PASSWORD"
    assert secret.file_path == "~/.config/db/password"
    assert secret.version == 1
    assert secret.created_at == secret.updated_at


def test_create_secret_optional_fields_default_empty(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")

    secret = create(session, alice, keyring, name="token")

    assert secret.description == ""
    assert secret.env_name == ""
    assert secret.file_path == ""


def test_create_secret_stores_only_ciphertext(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")

    secret = create(session, alice, keyring, value=PLAINTEXT)

    row = stored_row(session, secret.id)
    assert PLAINTEXT not in row.value
    assert row.value.startswith("v1:")
    assert row.value_key_id == keyring.primary_digest


def test_list_with_values_decrypts(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="b", value="second")
    create(session, alice, keyring, name="a", value="first")

    secrets = store.list_secrets_with_values(session, alice, keyring, alice.user_id)

    assert [secret.metadata.name for secret in secrets] == ["a", "b"]
    assert [secret.value for secret in secrets] == ["first", "second"]
    assert "first" not in repr(secrets[0])


def test_list_with_values_reads_plaintext_rows(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    secret = create(session, alice, keyring, name="legacy")
    # A NULL key id marks a row written before values were encrypted.
    session.execute(
        update(UserSecret)
        .where(UserSecret.id == secret.id)
        .values(value="stored in plaintext", value_key_id=None)
    )

    secrets = store.list_secrets_with_values(session, alice, keyring, alice.user_id)

    assert secrets[0].value == "stored in plaintext"


def test_ciphertext_moved_to_other_row_fails(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    first = create(session, alice, keyring, name="first")
    second = create(session, alice, keyring, name="second")
    first_value = stored_row(session, first.id).value
    session.execute(update(UserSecret).where(UserSecret.id == second.id).values(value=first_value))

    with pytest.raises(DecryptionError):
        store.list_secrets_with_values(session, alice, keyring, alice.user_id)


def test_get_secret_returns_metadata(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    created = create(session, alice, keyring, name="api key", env_name="API_KEY")

    found = store.get_secret(session, alice, alice.user_id, "api key")

    assert found == created


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("missing", id="unknown"),
        pytest.param("nul\0name", id="nul"),
        pytest.param("a/b", id="slash"),
        pytest.param("x" * 65, id="too-long"),
    ],
)
def test_get_secret_unknown_is_not_found(session: Session, keyring: Keyring, name: str) -> None:
    _, alice = make_actor(session, "alice")

    with pytest.raises(SecretNotFound):
        store.get_secret(session, alice, alice.user_id, name)


def test_list_metadata_sorted_and_own_only(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    _, bob = make_actor(session, "bob")
    for name in ["b", "B", "a", "_x"]:
        create(session, alice, keyring, name=name)
    create(session, bob, keyring, name="bobs")

    secrets = store.list_secret_metadata(session, alice, alice.user_id)

    assert [secret.name for secret in secrets] == ["B", "_x", "a", "b"]


def test_list_metadata_never_selects_value(
    engine: Engine, session: Session, keyring: Keyring
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="one")

    with captured_statements(engine) as statements:
        secrets = store.list_secret_metadata(session, alice, alice.user_id)

    selects = statements_on_secrets(statements, "SELECT")
    assert len(secrets) == 1
    assert len(selects) == 1
    assert re.search(r"\bvalue\b", selects[0]) is None
    assert "value_key_id" not in selects[0]


def test_get_secret_never_selects_value(engine: Engine, session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="one")

    with captured_statements(engine) as statements:
        store.get_secret(session, alice, alice.user_id, "one")

    selects = statements_on_secrets(statements, "SELECT")
    assert len(selects) == 1
    assert re.search(r"\bvalue\b", selects[0]) is None


def test_list_metadata_makes_one_decision(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    for index in range(5):
        create(session, alice, keyring, name=f"secret-{index}")

    with count_decisions() as decisions:
        secrets = store.list_secret_metadata(session, alice, alice.user_id)

    assert len(secrets) == 5
    assert decisions[0] == 1


# --- authorization -----------------------------------------------------------------

# Each operation acts on a secret named "shared" of `owner_id`.
Operation = Callable[[Session, Actor, Keyring, uuid.UUID], object]

OPERATIONS: dict[str, Operation] = {
    "get": lambda session, actor, keyring, owner_id: store.get_secret(
        session, actor, owner_id, "shared"
    ),
    "list": lambda session, actor, keyring, owner_id: store.list_secret_metadata(
        session, actor, owner_id
    ),
    "list-values": lambda session, actor, keyring, owner_id: store.list_secrets_with_values(
        session, actor, keyring, owner_id
    ),
    "create": lambda session, actor, keyring, owner_id: store.create_secret(
        session,
        actor,
        audit_context(actor),
        keyring,
        owner_id,
        {"name": "planted", "value": PLAINTEXT},
    ),
    "update": lambda session, actor, keyring, owner_id: store.update_secret(
        session,
        actor,
        audit_context(actor),
        keyring,
        owner_id,
        "shared",
        {"description": "changed"},
    ),
    "delete": lambda session, actor, keyring, owner_id: store.delete_secret(
        session, actor, audit_context(actor), owner_id, "shared"
    ),
}


def make_other_actor(session: Session, role: str, owner_id: uuid.UUID) -> Actor:
    """Create an actor holding `role` that relates to the owner's secrets as a non-owner.

    Organization roles are held in an organization the owner is a member of.
    """
    if role in ("org-admin", "org-member"):
        org = make_org(session)
        add_member(session, org, session.get_one(User, owner_id))
        user, _ = make_actor(session, f"{role}-actor")
        add_member(session, org, user, role=role)
        return load_actor(session, user)
    site_roles = () if role == "member" else (role,)
    _, actor = make_actor(session, f"{role}-actor", site_roles=site_roles)
    return actor


@pytest.mark.parametrize("operation", list(OPERATIONS), ids=list(OPERATIONS))
@pytest.mark.parametrize(
    "role", ["owner", "auditor", "user-admin", "member", "org-admin", "org-member"]
)
def test_non_owner_role_is_forbidden(
    session: Session, keyring: Keyring, role: str, operation: str
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="shared")
    other = make_other_actor(session, role, alice.user_id)
    audit_rows_before = count_audit_rows(session)

    with pytest.raises(Forbidden):
        OPERATIONS[operation](session, other, keyring, alice.user_id)

    assert count_audit_rows(session) == audit_rows_before
    assert store.get_secret(session, alice, alice.user_id, "shared").version == 1


@pytest.mark.parametrize("operation", list(OPERATIONS), ids=list(OPERATIONS))
@pytest.mark.parametrize("site_role", ["owner", "auditor", "user-admin", "member"])
def test_any_site_role_manages_own_secrets(
    session: Session, keyring: Keyring, site_role: str, operation: str
) -> None:
    site_roles = () if site_role == "member" else (site_role,)
    _, actor = make_actor(session, "self", site_roles=site_roles)
    create(session, actor, keyring, name="shared")

    OPERATIONS[operation](session, actor, keyring, actor.user_id)


# --- update ------------------------------------------------------------------------


def test_update_secret_changes_given_fields_only(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    created = create(
        session,
        alice,
        keyring,
        name="db",
        description="old description",
        env_name="DB_PASSWORD",
        file_path="/run/db",
    )
    value_before = stored_row(session, created.id).value

    updated = store.update_secret(
        session,
        alice,
        audit_context(alice),
        keyring,
        alice.user_id,
        "db",
        {"description": "new description"},
    )

    assert updated.description == "new description"
    assert updated.env_name == "DB_PASSWORD"
    assert updated.file_path == "/run/db"
    assert updated.version == 2
    assert stored_row(session, created.id).value == value_before


def test_update_secret_empty_string_clears_field(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db", env_name="DB_PASSWORD", file_path="/run/db")

    updated = store.update_secret(
        session, alice, audit_context(alice), keyring, alice.user_id, "db", {"env_name": ""}
    )

    assert updated.env_name == ""
    assert updated.file_path == "/run/db"


def test_update_secret_bumps_updated_at(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    created = create(session, alice, keyring, name="db")
    session.execute(
        update(UserSecret)
        .where(UserSecret.id == created.id)
        .values(created_at=OLD_TIME, updated_at=OLD_TIME)
    )
    session.expire_all()

    updated = store.update_secret(
        session, alice, audit_context(alice), keyring, alice.user_id, "db", {"description": "x"}
    )

    assert updated.created_at == OLD_TIME
    assert updated.updated_at > OLD_TIME


def test_update_secret_is_one_update_statement(
    engine: Engine, session: Session, keyring: Keyring
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")
    changes = {"value": "new", "description": "d", "env_name": "DB", "file_path": "/run/db"}

    with captured_statements(engine) as statements:
        store.update_secret(
            session, alice, audit_context(alice), keyring, alice.user_id, "db", changes
        )

    updates = statements_on_secrets(statements, "UPDATE")
    assert len(updates) == 1
    assert "version" in updates[0]
    assert "updated_at" in updates[0]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_update_secret_locks_row_first(engine: Engine, session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    with captured_statements(engine) as statements:
        store.update_secret(
            session, alice, audit_context(alice), keyring, alice.user_id, "db", {"value": "v"}
        )

    on_secrets = [statement for statement in statements if "user_secrets" in statement]
    assert on_secrets[0].lstrip().upper().startswith("SELECT")
    assert on_secrets[0].rstrip().upper().endswith("FOR UPDATE")
    assert on_secrets[1].lstrip().upper().startswith("UPDATE")


def test_update_secret_reencrypts_value(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    created = create(session, alice, keyring, name="db", value="old value")
    key_id_before = stored_row(session, created.id).value_key_id

    store.update_secret(
        session, alice, audit_context(alice), keyring, alice.user_id, "db", {"value": PLAINTEXT}
    )

    row = stored_row(session, created.id)
    secrets = store.list_secrets_with_values(session, alice, keyring, alice.user_id)
    assert PLAINTEXT not in row.value
    assert row.value_key_id == key_id_before
    assert secrets[0].value == PLAINTEXT


def test_update_secret_unknown_is_not_found(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")

    with pytest.raises(SecretNotFound):
        store.update_secret(
            session, alice, audit_context(alice), keyring, alice.user_id, "nope", {"value": "v"}
        )


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({}, [], id="nothing"),
        pytest.param({"value": ""}, ["value"], id="empty-value"),
        pytest.param({"name": "renamed"}, ["name"], id="rename"),
        pytest.param({"env_name": "PATH", "file_path": "rel"}, ["env_name", "file_path"], id="two"),
        pytest.param({"description": None}, ["description"], id="null"),
    ],
)
def test_update_secret_invalid_changes_rejected(
    session: Session, keyring: Keyring, changes: dict[str, object], fields: list[str]
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    with pytest.raises(InvalidSecret) as raised:
        store.update_secret(
            session, alice, audit_context(alice), keyring, alice.user_id, "db", changes
        )

    assert [violation.field for violation in raised.value.violations] == fields


def test_update_secret_expected_version_matches(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    updated = store.update_secret(
        session,
        alice,
        audit_context(alice),
        keyring,
        alice.user_id,
        "db",
        {"description": "x"},
        expected_version=1,
    )

    assert updated.version == 2


def test_update_secret_stale_version_fails(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db", description="first")
    audit = audit_context(alice)
    store.update_secret(session, alice, audit, keyring, alice.user_id, "db", {"description": "2"})
    audit_rows_before = count_audit_rows(session)

    with pytest.raises(PreconditionFailed):
        store.update_secret(
            session,
            alice,
            audit,
            keyring,
            alice.user_id,
            "db",
            {"description": "3"},
            expected_version=1,
        )

    current = store.get_secret(session, alice, alice.user_id, "db")
    assert current.version == 2
    assert current.description == "2"
    assert count_audit_rows(session) == audit_rows_before


def test_update_secret_without_version_last_wins(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")
    audit = audit_context(alice)
    store.update_secret(session, alice, audit, keyring, alice.user_id, "db", {"description": "a"})

    updated = store.update_secret(
        session, alice, audit, keyring, alice.user_id, "db", {"description": "b"}
    )

    assert updated.version == 3
    assert updated.description == "b"


# --- delete ------------------------------------------------------------------------


def test_delete_secret_removes_row(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    store.delete_secret(session, alice, audit_context(alice), alice.user_id, "db")

    assert store.list_secret_metadata(session, alice, alice.user_id) == []


def test_delete_secret_decided_by_delete_statement(
    engine: Engine, session: Session, keyring: Keyring
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    with captured_statements(engine) as statements:
        store.delete_secret(session, alice, audit_context(alice), alice.user_id, "db")

    on_secrets = [statement for statement in statements if "user_secrets" in statement]
    assert len(on_secrets) == 1
    assert on_secrets[0].lstrip().upper().startswith("DELETE")


def test_delete_secret_twice_is_not_found(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")
    audit = audit_context(alice)
    store.delete_secret(session, alice, audit, alice.user_id, "db")

    with pytest.raises(SecretNotFound):
        store.delete_secret(session, alice, audit, alice.user_id, "db")


def test_delete_secret_stale_version_fails(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")
    audit = audit_context(alice)
    store.update_secret(session, alice, audit, keyring, alice.user_id, "db", {"description": "x"})

    with pytest.raises(PreconditionFailed):
        store.delete_secret(session, alice, audit, alice.user_id, "db", expected_version=1)

    assert store.get_secret(session, alice, alice.user_id, "db").version == 2


def test_delete_secret_expected_version_matches(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="db")

    store.delete_secret(session, alice, audit_context(alice), alice.user_id, "db", 1)

    assert store.list_secret_metadata(session, alice, alice.user_id) == []


def test_delete_missing_with_version_not_found(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")

    with pytest.raises(SecretNotFound):
        store.delete_secret(session, alice, audit_context(alice), alice.user_id, "db", 1)


def commit_alice_secret(engine: Engine, keyring: Keyring) -> Actor:
    with Session(engine, expire_on_commit=False) as session:
        _, alice = make_actor(session, "alice")
        create(session, alice, keyring, name="db")
        session.commit()
    return alice


def delete_in_new_session(engine: Engine, actor: Actor) -> str:
    """Delete alice's secret "db" in a new session, commit, and return the outcome."""
    with Session(engine) as session:
        try:
            store.delete_secret(session, actor, audit_context(actor), actor.user_id, "db")
        except SecretNotFound:
            return "not found"
        session.commit()
        return "deleted"


def test_concurrent_deletes_one_succeeds(engine: Engine, keyring: Keyring) -> None:
    alice = commit_alice_secret(engine, keyring)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def delete() -> None:
        barrier.wait()
        outcomes.append(delete_in_new_session(engine, alice))

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["deleted", "not found"]
    with Session(engine) as session:
        assert count_audit_rows(session) == 2  # one create, one delete


def waiting_on_lock(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(count or 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_delete_waiting_on_row_lock_not_found(engine: Engine, keyring: Keyring) -> None:
    alice = commit_alice_secret(engine, keyring)
    outcomes: list[str] = []

    with Session(engine) as first:
        store.delete_secret(first, alice, audit_context(alice), alice.user_id, "db")
        # The second delete blocks on the row lock the first one holds until it commits.
        second = threading.Thread(
            target=lambda: outcomes.append(delete_in_new_session(engine, alice))
        )
        second.start()
        for _ in range(200):
            if waiting_on_lock(engine) > 0:
                break
            time.sleep(0.05)
        blocked = waiting_on_lock(engine)
        first.commit()
    second.join()

    assert blocked == 1
    assert outcomes == ["not found"]


# --- unique indexes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        pytest.param("name", {"name": "db"}, {"name": "db"}, id="name"),
        pytest.param(
            "env_name",
            {"name": "a", "env_name": "DB"},
            {"name": "b", "env_name": "DB"},
            id="env_name",
        ),
        pytest.param(
            "file_path",
            {"name": "a", "file_path": "/run/db"},
            {"name": "b", "file_path": "/run/db"},
            id="file_path",
        ),
    ],
)
def test_create_duplicate_conflicts_on_field(
    session: Session,
    keyring: Keyring,
    field: str,
    first: dict[str, str],
    second: dict[str, str],
) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, **first)
    audit_rows_before = count_audit_rows(session)

    with pytest.raises(SecretConflict) as raised:
        create(session, alice, keyring, **second)

    assert raised.value.field == field
    assert count_audit_rows(session) == audit_rows_before
    # The savepoint kept the transaction usable.
    create(session, alice, keyring, name="after-conflict")
    session.commit()


@pytest.mark.parametrize(
    "field", [pytest.param("env_name", id="env_name"), pytest.param("file_path", id="file_path")]
)
def test_update_duplicate_conflicts_on_field(
    session: Session, keyring: Keyring, field: str
) -> None:
    _, alice = make_actor(session, "alice")
    duplicate = {"env_name": "DB", "file_path": "/run/db"}[field]
    create(session, alice, keyring, name="a", **{field: duplicate})
    create(session, alice, keyring, name="b")

    with pytest.raises(SecretConflict) as raised:
        store.update_secret(
            session, alice, audit_context(alice), keyring, alice.user_id, "b", {field: duplicate}
        )

    assert raised.value.field == field
    assert store.get_secret(session, alice, alice.user_id, "b").version == 1
    session.commit()


def test_same_name_for_two_users_allowed(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    _, bob = make_actor(session, "bob")
    create(session, alice, keyring, name="db", env_name="DB", file_path="/run/db")

    secret = create(session, bob, keyring, name="db", env_name="DB", file_path="/run/db")

    assert secret.user_id == bob.user_id


def test_empty_env_name_and_path_repeat(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    create(session, alice, keyring, name="a")

    create(session, alice, keyring, name="b")

    assert len(store.list_secret_metadata(session, alice, alice.user_id)) == 2


# --- audit -------------------------------------------------------------------------


def audit_rows(session: Session) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).order_by(AuditLog.time)))


def test_each_mutation_writes_one_audit_row(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    audit = audit_context(alice)

    secret = create(session, alice, keyring, name="db", value=PLAINTEXT)
    store.update_secret(session, alice, audit, keyring, alice.user_id, "db", {"value": "v2"})
    store.delete_secret(session, alice, audit, alice.user_id, "db")

    rows = audit_rows(session)
    assert [row.action for row in rows] == ["create", "write", "delete"]
    assert {row.resource_type for row in rows} == {"user_secret"}
    assert {row.resource_id for row in rows} == {str(secret.id)}
    assert {row.resource_target for row in rows} == {"db"}
    assert {row.resource_owner_id for row in rows} == {alice.user_id}
    assert {row.organization_id for row in rows} == {None}


def test_audit_diff_hides_value(session: Session, keyring: Keyring) -> None:
    _, alice = make_actor(session, "alice")
    secret = create(session, alice, keyring, name="db", value=PLAINTEXT)
    ciphertext = stored_row(session, secret.id).value
    store.update_secret(
        session,
        alice,
        audit_context(alice),
        keyring,
        alice.user_id,
        "db",
        {"value": PLAINTEXT + "-2", "description": "d"},
    )

    rows = audit_rows(session)
    update_diff = rows[1].diff
    serialized = json.dumps([row.diff for row in rows])
    assert update_diff["value"] == {"old": "", "new": "", "secret": True}
    assert update_diff["description"] == {"old": "", "new": "d"}
    assert PLAINTEXT not in serialized
    assert ciphertext not in serialized
    assert "value_key_id" not in serialized
