"""Authorized reads of users. Every function takes the acting user and checks the policy."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.authz import Actor, Forbidden, Target, authorize
from app.orgs.models import OrganizationMember
from app.users.errors import UserNotFound
from app.users.models import SiteRoleAssignment, User
from app.users.validation import could_be_username, parse_uuid


def find_user(session: Session, actor: Actor | None, reference: str) -> User | None:
    """Look a user up by `me`, UUID or username (any case), without an access check."""
    if reference == "me":
        return None if actor is None else session.get(User, actor.user_id)
    user_id = parse_uuid(reference)
    if user_id is not None:
        return session.get(User, user_id)
    if not could_be_username(reference):
        return None
    return session.scalars(
        select(User).where(func.lower(User.username) == reference.lower())
    ).one_or_none()


def user_target(session: Session, user_id: uuid.UUID) -> Target:
    """Describe a user for the policy: it owns itself and is in its organizations."""
    org_ids = session.scalars(
        select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id)
    )
    return Target("user", owner_id=user_id, org_ids=frozenset(org_ids))


def get_user(session: Session, actor: Actor, reference: str) -> User:
    """Return the user `reference` names if the actor may read it, else raise UserNotFound.

    A user the actor may not read is reported as not found, so its existence does not leak.
    """
    user = find_user(session, actor, reference)
    if user is None:
        raise UserNotFound(reference)
    try:
        authorize(actor, "read", user_target(session, user.id))
    except Forbidden:
        raise UserNotFound(reference) from None
    return user


def site_roles_of(session: Session, user_id: uuid.UUID) -> list[str]:
    return sorted(
        session.scalars(
            select(SiteRoleAssignment.role).where(SiteRoleAssignment.user_id == user_id)
        )
    )
