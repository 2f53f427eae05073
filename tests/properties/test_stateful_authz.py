"""A state machine that grants and revokes roles between secret operations.

The model is tests/properties/oracle.py's WorldModel. Roles change through direct
database writes, as an operator would make them, and every operation loads its actor
from the database again, so a grant or revocation must be in force on the next call.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.authz import Forbidden
from app.db.base import utcnow
from app.orgs.models import OrganizationMember
from app.secrets import store as secrets_store
from app.secrets.errors import SecretConflict, SecretNotFound
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment
from tests.properties.oracle import WorldModel
from tests.properties.world import (
    SECRET_NAMES,
    SITE_ROLES,
    WorldSpec,
    actor_for,
    audit_for,
    build_world,
    create_secret,
)


class SecretsAuthorization(RuleBasedStateMachine):
    """Compares the authorized secrets data layer with the matrix while roles change."""

    # Set by the test function before the machine runs: one engine per database kind.
    engine: Engine

    users = Bundle("users")

    def __init__(self) -> None:
        super().__init__()
        self.model = WorldModel()
        self.org_id: uuid.UUID | None = None

    @initialize(target=users)
    def build(self) -> object:
        spec = WorldSpec(
            users=[(frozenset(), frozenset()) for _ in range(3)],
            organizations=[{}],
        )
        user_ids, self.model = build_world(self.engine, spec)
        self.org_id = next(iter(self.model.organizations))
        return multiple(*user_ids)

    @rule(user=users, role=st.sampled_from(SITE_ROLES))
    def grant_site_role(self, user: uuid.UUID, role: str) -> None:
        with Session(self.engine) as session, session.begin():
            if role not in self.model.site_roles[user]:
                session.add(SiteRoleAssignment(user_id=user, role=role, created_at=utcnow()))
        self.model.site_roles[user].add(role)

    @rule(user=users, role=st.sampled_from(SITE_ROLES))
    def revoke_site_role(self, user: uuid.UUID, role: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(
                delete(SiteRoleAssignment).where(
                    SiteRoleAssignment.user_id == user, SiteRoleAssignment.role == role
                )
            )
        self.model.site_roles[user].discard(role)

    @rule(user=users, role=st.sampled_from([None, "org-member", "org-admin"]))
    def set_membership(self, user: uuid.UUID, role: str | None) -> None:
        assert self.org_id is not None
        key = (self.org_id, user)
        with Session(self.engine) as session, session.begin():
            session.execute(
                delete(OrganizationMember).where(
                    OrganizationMember.organization_id == self.org_id,
                    OrganizationMember.user_id == user,
                )
            )
            if role is not None:
                now = utcnow()
                session.add(
                    OrganizationMember(
                        organization_id=self.org_id,
                        user_id=user,
                        role=role,
                        created_at=now,
                        updated_at=now,
                    )
                )
        if role is None:
            self.model.memberships.pop(key, None)
        else:
            self.model.memberships[key] = role

    @rule(actor=users, owner=users, name=st.sampled_from(SECRET_NAMES))
    def create(self, actor: uuid.UUID, owner: uuid.UUID, name: str) -> None:
        allowed = self.model.may_on_secrets(actor, "create", owner)
        with Session(self.engine) as session:
            try:
                create_secret(session, actor_for(session, actor), owner, name)
                session.commit()
                outcome = "done"
            except Forbidden:
                outcome = "denied"
            except SecretConflict:
                outcome = "conflict"
        if not allowed:
            assert outcome == "denied"
            return
        assert outcome == ("conflict" if name in self.model.secrets[owner] else "done")
        self.model.secrets[owner].add(name)

    @rule(actor=users, owner=users, name=st.sampled_from(SECRET_NAMES))
    def delete(self, actor: uuid.UUID, owner: uuid.UUID, name: str) -> None:
        allowed = self.model.may_on_secrets(actor, "delete", owner)
        with Session(self.engine) as session:
            principal = actor_for(session, actor)
            try:
                secrets_store.delete_secret(session, principal, audit_for(principal), owner, name)
                session.commit()
                outcome = "done"
            except Forbidden:
                outcome = "denied"
            except SecretNotFound:
                outcome = "missing"
        if not allowed:
            assert outcome == "denied"
            return
        assert outcome == ("done" if name in self.model.secrets[owner] else "missing")
        self.model.secrets[owner].discard(name)

    @rule(actor=users, owner=users)
    def list_secrets(self, actor: uuid.UUID, owner: uuid.UUID) -> None:
        allowed = self.model.may_on_secrets(actor, "read", owner)
        with Session(self.engine) as session:
            try:
                listed = secrets_store.list_secret_metadata(
                    session, actor_for(session, actor), owner
                )
            except Forbidden:
                assert not allowed
                return
        assert allowed
        assert [secret.name for secret in listed] == sorted(self.model.secrets[owner])

    @invariant()
    def database_matches_model(self) -> None:
        if not self.model.secrets:
            return
        with Session(self.engine) as session:
            rows = session.execute(select(UserSecret.user_id, UserSecret.name)).all()
        stored: dict[uuid.UUID, set[str]] = {user: set() for user in self.model.secrets}
        for user_id, name in rows:
            stored[user_id].add(name)
        assert stored == self.model.secrets


def test_secrets_authorization_state_machine(engine: Engine) -> None:
    SecretsAuthorization.engine = engine
    machine_settings = settings(
        settings(),
        stateful_step_count=30,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    run_machine = SecretsAuthorization.TestCase
    run_machine.settings = machine_settings
    run_machine().runTest()
