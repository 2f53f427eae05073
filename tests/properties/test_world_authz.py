"""Random worlds: every data-layer outcome matches the role matrix, on both databases."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.authz import Actor, Forbidden
from app.orgs import store as orgs_store
from app.orgs.errors import OrganizationNotFound
from app.secrets import store as secrets_store
from app.secrets.errors import SecretConflict, SecretNotFound
from app.secrets.models import UserSecret
from app.users import store as users_store
from app.users.errors import UserNotFound
from tests.properties.world import (
    KEYRING,
    SECRET_NAMES,
    WorldSpec,
    actor_for,
    audit_for,
    build_world,
    create_secret,
    world_specs,
)

# Function-scoped fixtures are shared by all examples. build_world wipes the database
# at the start of each example, so no example reads rows another one wrote.
world_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

SECRET_OPERATIONS = ("read", "list", "create", "update", "delete")
ACTION_OF = {
    "read": "read",
    "list": "read",
    "create": "create",
    "update": "update",
    "delete": "delete",
}


def secret_rows(session: Session) -> set[tuple[uuid.UUID, str, str, int]]:
    rows = session.execute(
        select(UserSecret.user_id, UserSecret.name, UserSecret.description, UserSecret.version)
    )
    return {tuple(row) for row in rows}  # type: ignore[misc]


def run_secret_operation(
    session: Session, operation: str, actor_id: uuid.UUID, owner_id: uuid.UUID, name: str
) -> str:
    """Perform one operation through the data layer; return its outcome as a word."""
    actor = actor_for(session, actor_id)
    audit = audit_for(actor)
    try:
        if operation == "read":
            secrets_store.get_secret(session, actor, owner_id, name)
        elif operation == "list":
            secrets_store.list_secret_metadata(session, actor, owner_id)
        elif operation == "create":
            create_secret(session, actor, owner_id, name)
        elif operation == "update":
            secrets_store.update_secret(
                session,
                actor,
                audit,
                KEYRING,
                owner_id,
                name,
                {"description": f"changed by {actor.username}"},
            )
        else:
            secrets_store.delete_secret(session, actor, audit, owner_id, name)
    except Forbidden:
        return "denied"
    except SecretNotFound:
        return "missing"
    except SecretConflict:
        return "conflict"
    return "done"


@world_settings
@given(spec=world_specs(), data=st.data())
def test_secret_operations_follow_matrix(
    engine: Engine, spec: WorldSpec, data: st.DataObject
) -> None:
    user_ids, model = build_world(engine, spec)

    for _ in range(6):
        actor_id = data.draw(st.sampled_from(user_ids), label="actor")
        owner_id = data.draw(st.sampled_from(user_ids), label="owner")
        operation = data.draw(st.sampled_from(SECRET_OPERATIONS), label="operation")
        name = data.draw(st.sampled_from(SECRET_NAMES), label="name")
        allowed = model.may_on_secrets(actor_id, ACTION_OF[operation], owner_id)
        exists = name in model.secrets[owner_id]

        with Session(engine, expire_on_commit=False) as session:
            before = secret_rows(session)
            outcome = run_secret_operation(session, operation, actor_id, owner_id, name)
            after = secret_rows(session)
            session.commit()

        if operation == "read" and not exists:
            # The row is looked up before the decision, and the API returns 404 for both.
            assert outcome == "missing"
        elif not allowed:
            assert outcome == "denied", (operation, actor_id == owner_id)
        elif operation in ("read", "update", "delete"):
            assert outcome == ("done" if exists else "missing"), operation
        elif operation == "create":
            assert outcome == ("conflict" if exists else "done")
        else:
            assert outcome == "done"

        if outcome != "done" or operation in ("read", "list"):
            assert after == before, f"{operation} {outcome} changed rows"
        elif operation == "create":
            model.secrets[owner_id].add(name)
        elif operation == "delete":
            model.secrets[owner_id].discard(name)
        assert {n for (u, n, _, _) in after if u == owner_id} == model.secrets[owner_id]


@world_settings
@given(spec=world_specs())
def test_secret_list_equals_single_reads(engine: Engine, spec: WorldSpec) -> None:
    user_ids, model = build_world(engine, spec)

    with Session(engine) as session:
        for actor_id in user_ids:
            actor = actor_for(session, actor_id)
            for owner_id in user_ids:
                try:
                    listed = {
                        secret.name
                        for secret in secrets_store.list_secret_metadata(session, actor, owner_id)
                    }
                except Forbidden:
                    listed = set()
                readable = set()
                for name in model.secrets[owner_id]:
                    try:
                        secrets_store.get_secret(session, actor, owner_id, name)
                    except Forbidden:
                        continue
                    readable.add(name)
                assert listed == readable
                expected = model.secrets[owner_id] if actor_id == owner_id else set()
                assert listed == expected


@world_settings
@given(spec=world_specs())
def test_user_list_equals_single_reads(engine: Engine, spec: WorldSpec) -> None:
    user_ids, model = build_world(engine, spec)

    with Session(engine) as session:
        for actor_id in user_ids:
            actor = actor_for(session, actor_id)
            listed = {user.id for user in users_store.list_users(session, actor)}
            readable = set()
            for user_id in user_ids:
                try:
                    users_store.get_user(session, actor, str(user_id))
                except UserNotFound:
                    continue
                readable.add(user_id)
            expected = {user_id for user_id in user_ids if model.may_read_user(actor_id, user_id)}
            assert listed == readable
            assert listed == expected


@world_settings
@given(spec=world_specs())
def test_organization_reads_follow_matrix(engine: Engine, spec: WorldSpec) -> None:
    user_ids, model = build_world(engine, spec)

    with Session(engine) as session:
        for actor_id in user_ids:
            actor = actor_for(session, actor_id)
            listed = {org.id for org in orgs_store.list_organizations(session, actor)}
            readable = set()
            for org_id in model.organizations:
                try:
                    orgs_store.get_organization(session, actor, str(org_id))
                except OrganizationNotFound:
                    continue
                readable.add(org_id)
            expected = {org for org in model.organizations if model.may_read_org(actor_id, org)}
            assert listed == readable
            assert listed == expected

            for org_id in readable:
                members = {
                    (row.member.organization_id, row.member.user_id)
                    for row in list_members_or_empty(session, actor, org_id)
                }
                expected_members = {
                    key
                    for key in model.memberships
                    if key[0] == org_id
                    and model.allows(
                        actor_id, "read", "organization_member", key[1], frozenset({org_id})
                    )
                }
                assert members == expected_members


def list_members_or_empty(
    session: Session, actor: Actor, org_id: uuid.UUID
) -> list[orgs_store.Membership]:
    try:
        return orgs_store.list_members(session, actor, str(org_id))
    except Forbidden:
        return []


@pytest.mark.parametrize("role", ["owner", "auditor", "user-admin"])
def test_site_admin_never_reads_secret(engine: Engine, role: str) -> None:
    spec = WorldSpec(
        users=[(frozenset({role}), frozenset()), (frozenset(), frozenset({"alpha"}))],
        organizations=[{0: "org-admin", 1: "org-member"}],
    )
    (admin_id, member_id), _ = build_world(engine, spec)

    with Session(engine) as session:
        for operation in SECRET_OPERATIONS:
            outcome = run_secret_operation(session, operation, admin_id, member_id, "alpha")
            assert outcome == "denied", operation
