"""Generated worlds written to a real database, and the data-layer calls the tests make."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext
from app.auth.tokens import load_actor
from app.authz import Actor
from app.crypto.cipher import Keyring
from app.db.models import Base
from app.secrets import store as secrets_store
from app.users.models import User
from tests.properties.oracle import WorldModel
from tests.support.factories import add_member, make_org, make_user

SITE_ROLES = ("owner", "auditor", "user-admin")
SECRET_NAMES = ("alpha", "beta", "gamma")
KEYRING = Keyring((os.urandom(32),))


@dataclass(frozen=True)
class WorldSpec:
    """A world to build: per user its site roles and secrets; per org the members' roles."""

    users: list[tuple[frozenset[str], frozenset[str]]]
    # One dict per organization: user index -> org role.
    organizations: list[dict[int, str]]


@st.composite
def world_specs(draw: st.DrawFn) -> WorldSpec:
    user_count = draw(st.integers(min_value=2, max_value=5))
    users = [
        (
            draw(st.frozensets(st.sampled_from(SITE_ROLES), max_size=2)),
            draw(st.frozensets(st.sampled_from(SECRET_NAMES), max_size=2)),
        )
        for _ in range(user_count)
    ]
    org_count = draw(st.integers(min_value=0, max_value=2))
    organizations = [
        draw(
            st.dictionaries(
                st.integers(min_value=0, max_value=user_count - 1),
                st.sampled_from(["org-member", "org-admin"]),
                max_size=user_count,
            )
        )
        for _ in range(org_count)
    ]
    return WorldSpec(users=users, organizations=organizations)


def wipe(engine: Engine) -> None:
    """Delete every row, children first, so each generated example starts empty."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def build_world(engine: Engine, spec: WorldSpec) -> tuple[list[uuid.UUID], WorldModel]:
    """Write `spec` to the database; return the user ids in order and the matching model."""
    wipe(engine)
    model = WorldModel()
    with Session(engine, expire_on_commit=False) as session:
        users: list[User] = []
        for index, (roles, _) in enumerate(spec.users):
            user = make_user(session, f"user{index}", site_roles=roles)
            users.append(user)
            model.site_roles[user.id] = set(roles)
            model.secrets[user.id] = set()
        for members in spec.organizations:
            org = make_org(session)
            model.organizations.add(org.id)
            for index, role in members.items():
                add_member(session, org, users[index], role=role)
                model.memberships[(org.id, users[index].id)] = role
        session.commit()
        for user, (_, names) in zip(users, spec.users, strict=True):
            owner = actor_for(session, user.id)
            for name in sorted(names):
                create_secret(session, owner, user.id, name)
                model.secrets[user.id].add(name)
        session.commit()
    return [user.id for user in users], model


def actor_for(session: Session, user_id: uuid.UUID) -> Actor:
    """Load the actor the way authentication does: roles read from the database now."""
    user = session.get(User, user_id)
    assert user is not None
    return load_actor(session, user)


def audit_for(actor: Actor) -> AuditContext:
    return AuditContext(user_id=actor.user_id, api_key_id=None, request_id="property-test")


def create_secret(session: Session, actor: Actor, owner_id: uuid.UUID, name: str) -> None:
    secrets_store.create_secret(
        session,
        actor,
        audit_for(actor),
        KEYRING,
        owner_id,
        {"name": name, "value": f"value of {name}"},
    )
