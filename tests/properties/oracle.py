"""An in-memory model of who may do what, built from roles/matrix.csv alone.

It restates the relation rules independently of app.authz.decide, so the property tests
compare the data layer against the reviewed matrix and not against the code under test:
- self: the object is the actor, or is owned by the actor;
- org: the object belongs to an organization in which the actor has an org role;
- other: neither.
Site roles, member included for active users, count with every relation that applies.
Organization roles count only with `org`, and only those held in the object's own
organizations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.authz.roles import Cell, default_matrix

MATRIX = default_matrix()


@dataclass
class WorldModel:
    """Users, their roles and memberships, and each user's secret names."""

    site_roles: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    # (organization id, user id) -> "org-member" or "org-admin"
    memberships: dict[tuple[uuid.UUID, uuid.UUID], str] = field(default_factory=dict)
    secrets: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    organizations: set[uuid.UUID] = field(default_factory=set)

    def org_roles(self, user_id: uuid.UUID) -> dict[uuid.UUID, set[str]]:
        roles: dict[uuid.UUID, set[str]] = {}
        for (org_id, member_id), role in self.memberships.items():
            if member_id == user_id:
                roles[org_id] = {"org-member", role}
        return roles

    def orgs_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return {org_id for org_id, member_id in self.memberships if member_id == user_id}

    def allows(
        self,
        actor_id: uuid.UUID,
        action: str,
        resource: str,
        owner_id: uuid.UUID | None = None,
        org_ids: frozenset[uuid.UUID] = frozenset(),
    ) -> bool:
        actor_orgs = self.org_roles(actor_id)
        shared = [org_id for org_id in org_ids if org_id in actor_orgs]
        relations = []
        if owner_id == actor_id:
            relations.append("self")
        if shared:
            relations.append("org")
        if not relations:
            relations.append("other")

        site = self.site_roles[actor_id] | {"member"}
        for role in site:
            for relation in relations:
                if MATRIX[Cell(role, relation, resource, action)]:
                    return True
        for org_id in shared:
            for role in actor_orgs[org_id]:
                if MATRIX[Cell(role, "org", resource, action)]:
                    return True
        return False

    def may_read_user(self, actor_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return self.allows(actor_id, "read", "user", user_id, frozenset(self.orgs_of(user_id)))

    def may_read_org(self, actor_id: uuid.UUID, org_id: uuid.UUID) -> bool:
        return self.allows(actor_id, "read", "organization", None, frozenset({org_id}))

    def may_on_secrets(self, actor_id: uuid.UUID, action: str, owner_id: uuid.UUID) -> bool:
        return self.allows(actor_id, action, "user_secret", owner_id)
