"""The subject of a request (Actor) and its object (Target)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """An authenticated user with the roles read from the database for this request.

    Roles travel with the actor instead of living in the enforcer, so every server
    process applies a role change on the next request without a reload.
    """

    user_id: uuid.UUID
    username: str
    # Site roles, `member` included for an active user.
    site_roles: frozenset[str]
    # Organization id -> the org roles held there (`org-member`, and `org-admin` if granted).
    org_roles: Mapping[uuid.UUID, frozenset[str]] = field(default_factory=dict)
    token_id: str | None = None
    scope: str = "all"


@dataclass(frozen=True)
class Target:
    """The object of a request: its resource type, owner and organizations.

    `owner_id` is the user the object is or belongs to (the user itself for `user`).
    `org_ids` are the organizations it belongs to. A user secret has none, so no
    organization role can ever relate to it.
    """

    resource: str
    owner_id: uuid.UUID | None = None
    org_ids: frozenset[uuid.UUID] = frozenset()
