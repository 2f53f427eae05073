"""`authorize`: the single decision point every data-layer function calls."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from app.authz.actor import Actor, Target
from app.authz.errors import Forbidden
from app.authz.policy import Policy, current_policy

# Decision counter of the current context, so tests can assert how many checks a
# request makes. None outside count_decisions().
_decision_count: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "authz_decision_count", default=None
)


def role_relation_pairs(actor: Actor, target: Target) -> set[tuple[str, str]]:
    """Return the (role, relation) pairs that hold between `actor` and `target`.

    Site roles pair with every relation that applies: `self` when the actor is or owns the
    object, `org` when the object is in an organization where the actor has a role, and
    `other` when neither applies. Organization roles pair only with `org`, and only the roles
    held in the object's own organizations count.
    """
    pairs: set[tuple[str, str]] = set()
    relations: list[str] = []
    if target.owner_id is not None and target.owner_id == actor.user_id:
        relations.append("self")
    shared_orgs = [org_id for org_id in target.org_ids if org_id in actor.org_roles]
    if shared_orgs:
        relations.append("org")
    if not relations:
        relations.append("other")

    for role in actor.site_roles:
        pairs.update((role, relation) for relation in relations)
    for org_id in shared_orgs:
        pairs.update((role, "org") for role in actor.org_roles[org_id])
    return pairs


def is_allowed(actor: Actor, action: str, target: Target, policy: Policy | None = None) -> bool:
    """Decide one request: allowed when any (role, relation) pair is allowed."""
    policy = policy or current_policy()
    counter = _decision_count.get()
    if counter is not None:
        counter[0] += 1
    return any(
        policy.is_allowed(role, relation, target.resource, action)
        for role, relation in role_relation_pairs(actor, target)
    )


def authorize(actor: Actor, action: str, target: Target, policy: Policy | None = None) -> None:
    """Raise Forbidden unless the policy allows `actor` to `action` on `target`."""
    if not is_allowed(actor, action, target, policy):
        raise Forbidden(action, target.resource)


@dataclass(frozen=True)
class ListScope:
    """Which rows of a resource an actor may read, for filtering a list in SQL.

    A row is visible when it is the actor's own and `own` is set; when it is in one of
    `org_ids`; or when `other` is set and the row is neither the actor's own nor in any
    organization where the actor has a role. This mirrors role_relation_pairs, so a
    list returns exactly the rows a single read allows.
    """

    own: bool
    org_ids: frozenset[uuid.UUID]
    other: bool
    # Orgs where the actor has any role: rows there are `org`, never `other`.
    member_org_ids: frozenset[uuid.UUID]

    @property
    def nothing(self) -> bool:
        return not (self.own or self.org_ids or self.other)


def list_scope(actor: Actor, action: str, resource: str, policy: Policy | None = None) -> ListScope:
    """Compute the rows of `resource` the actor may `action`, with one counted decision."""
    policy = policy or current_policy()
    counter = _decision_count.get()
    if counter is not None:
        counter[0] += 1

    def site_allows(relation: str) -> bool:
        return any(policy.is_allowed(r, relation, resource, action) for r in actor.site_roles)

    org_ids = frozenset(
        org_id
        for org_id, roles in actor.org_roles.items()
        if site_allows("org") or any(policy.is_allowed(r, "org", resource, action) for r in roles)
    )
    return ListScope(
        own=site_allows("self"),
        org_ids=org_ids,
        other=site_allows("other"),
        member_org_ids=frozenset(actor.org_roles),
    )


@contextlib.contextmanager
def count_decisions() -> Iterator[list[int]]:
    """Count the policy decisions made inside the block; the count is in result[0]."""
    counter = [0]
    token = _decision_count.set(counter)
    try:
        yield counter
    finally:
        _decision_count.reset(token)
