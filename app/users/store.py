"""The authorized data layer for users. Every function takes the acting user and checks
the policy before it returns or changes a row. Mutations also write their audit row."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, record_change, snapshot
from app.auth.models import ApiKey
from app.authz import Actor, Forbidden, Target, authorize, list_scope
from app.db.base import utcnow
from app.db.errors import violated_unique_constraint
from app.orgs.models import OrganizationMember
from app.secrets.models import UserSecret
from app.users.errors import LastOwner, UsernameTaken, UserNotFound
from app.users.models import SiteRoleAssignment, User
from app.users.validation import could_be_username, parse_uuid

USERNAME_INDEX = "uq_users_username_lower"
OWNER_ROLE = "owner"


@dataclass(frozen=True)
class UserChanges:
    """The fields a PATCH sets; None means the field was not in the request."""

    email: str | None = None
    status: str | None = None
    site_roles: frozenset[str] | None = None


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


def find_user_by_username(session: Session, username: str) -> User | None:
    """Look a user up by username only (any case), without an access check.

    Unlike find_user, `me` and UUIDs are not references here: they are never usernames.
    """
    if not could_be_username(username) or parse_uuid(username) is not None:
        return None
    return session.scalars(
        select(User).where(func.lower(User.username) == username.lower())
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
    user, _ = _read_user(session, actor, reference)
    return user


def site_roles_of(session: Session, user_id: uuid.UUID) -> list[str]:
    return sorted(
        session.scalars(
            select(SiteRoleAssignment.role).where(SiteRoleAssignment.user_id == user_id)
        )
    )


def site_roles_by_user(
    session: Session, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Return the sorted site roles of each of `user_ids` with one query."""
    roles: dict[uuid.UUID, list[str]] = {user_id: [] for user_id in user_ids}
    if not roles:
        return roles
    rows = session.execute(
        select(SiteRoleAssignment.user_id, SiteRoleAssignment.role)
        .where(SiteRoleAssignment.user_id.in_(list(roles)))
        .order_by(SiteRoleAssignment.role)
    )
    for user_id, role in rows:
        roles[user_id].append(role)
    return roles


def list_users(session: Session, actor: Actor) -> list[User]:
    """Return the users the actor may read, sorted by username, with one policy decision."""
    scope = list_scope(actor, "read", "user")
    if scope.nothing:
        return []

    def members_of(org_ids: frozenset[uuid.UUID]) -> ColumnElement[bool]:
        return User.id.in_(
            select(OrganizationMember.user_id).where(
                OrganizationMember.organization_id.in_(org_ids)
            )
        )

    # One condition per relation, as app.authz.decide computes them for a single user.
    visible: list[ColumnElement[bool]] = []
    if scope.own:
        visible.append(User.id == actor.user_id)
    if scope.org_ids:
        visible.append(members_of(scope.org_ids))
    if scope.other:
        visible.append(and_(User.id != actor.user_id, ~members_of(scope.member_org_ids)))

    users = session.scalars(select(User).where(or_(false(), *visible))).all()
    # Sorted here instead of in SQL, so the order does not depend on the database collation.
    return sorted(users, key=lambda user: (user.username.lower(), user.username))


def create_user(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    *,
    username: str,
    email: str,
    status: str = "active",
) -> User:
    """Insert a user after authorizing `create`. Raise UsernameTaken when the name is in use.

    The caller validates the fields first. The unique index on lower(username) is the
    only check for a taken name, so two concurrent requests cannot both succeed.
    """
    user_id = uuid.uuid4()
    authorize(actor, "create", Target("user", owner_id=user_id))

    now = utcnow()
    user = User(
        id=user_id, username=username, email=email, status=status, created_at=now, updated_at=now
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as error:
        if violated_unique_constraint(error) == USERNAME_INDEX:
            raise UsernameTaken(username) from None
        raise

    record_change(
        session,
        audit,
        action="create",
        model=User,
        resource_id=str(user.id),
        target=user.username,
        owner_id=user.id,
        new=snapshot(user),
    )
    return user


def update_user(
    session: Session, actor: Actor, audit: AuditContext, reference: str, changes: UserChanges
) -> User:
    """Apply `changes` to a user and write one audit row.

    Raise UserNotFound when the actor may not read the user. Raise Forbidden when it may
    read but not `update` (for email and status) or not `assign_role` (for site_roles):
    the two are separate decisions, so holding `update` on oneself grants no roles.
    Raise LastOwner when the change would leave no active owner.
    """
    user, target = _read_user(session, actor, reference)
    if changes.email is not None or changes.status is not None:
        authorize(actor, "update", target)
    if changes.site_roles is not None:
        authorize(actor, "assign_role", target)

    # Lock the user's row on PostgreSQL, so concurrent changes to one user's roles run one
    # after the other instead of both inserting the same role.
    session.refresh(user, with_for_update=True)
    old = snapshot(user)
    old_roles = site_roles_of(session, user.id)
    new_roles = old_roles if changes.site_roles is None else sorted(changes.site_roles)
    loses_owner = OWNER_ROLE in old_roles and (
        OWNER_ROLE not in new_roles or changes.status == "suspended"
    )
    if loses_owner and user.status == "active":
        _ensure_another_owner(session, user.id)

    now = utcnow()
    if changes.email is not None:
        user.email = changes.email
    if changes.status is not None:
        user.status = changes.status
    user.updated_at = now
    _replace_site_roles(session, user.id, old_roles, new_roles, now)
    session.flush()

    additional_fields: dict[str, Any] = {}
    if new_roles != old_roles:
        additional_fields["site_roles"] = {"old": old_roles, "new": new_roles}
    record_change(
        session,
        audit,
        action="write",
        model=User,
        resource_id=str(user.id),
        target=user.username,
        owner_id=user.id,
        old=old,
        new=snapshot(user),
        additional_fields=additional_fields,
    )
    return user


def delete_user(session: Session, actor: Actor, audit: AuditContext, reference: str) -> None:
    """Delete a user; the database deletes its secrets, tokens and memberships with it.

    Raise UserNotFound when the actor may not read the user, Forbidden when it may read
    but not delete, and LastOwner when the user is the only active owner.
    """
    user, target = _read_user(session, actor, reference)
    authorize(actor, "delete", target)
    if user.status == "active" and OWNER_ROLE in site_roles_of(session, user.id):
        _ensure_another_owner(session, user.id)

    # The cascade is not audited row by row, so the audit row records what went with it.
    cascaded = {
        "user_secrets": _count_rows_of(session, UserSecret, user.id),
        "api_keys": _count_rows_of(session, ApiKey, user.id),
        "organization_members": _count_rows_of(session, OrganizationMember, user.id),
    }
    old = snapshot(user)
    # A bulk DELETE leaves the cascade to the foreign keys (ON DELETE CASCADE on both
    # databases). User has no ORM relationships, so session.delete() would emit the same
    # single DELETE.
    session.execute(delete(User).where(User.id == user.id))
    session.expunge(user)

    record_change(
        session,
        audit,
        action="delete",
        model=User,
        resource_id=str(old["id"]),
        target=str(old["username"]),
        owner_id=old["id"],
        old=old,
        additional_fields={"deleted_with_user": cascaded},
    )


def _read_user(session: Session, actor: Actor, reference: str) -> tuple[User, Target]:
    user = find_user(session, actor, reference)
    if user is None:
        raise UserNotFound(reference)
    target = user_target(session, user.id)
    try:
        authorize(actor, "read", target)
    except Forbidden:
        raise UserNotFound(reference) from None
    return user, target


def _replace_site_roles(
    session: Session,
    user_id: uuid.UUID,
    old_roles: list[str],
    new_roles: list[str],
    now: dt.datetime,
) -> None:
    removed = set(old_roles) - set(new_roles)
    added = set(new_roles) - set(old_roles)
    if removed:
        session.execute(
            delete(SiteRoleAssignment).where(
                SiteRoleAssignment.user_id == user_id, SiteRoleAssignment.role.in_(removed)
            )
        )
    for role in sorted(added):
        session.add(SiteRoleAssignment(user_id=user_id, role=role, created_at=now))


def _ensure_another_owner(session: Session, user_id: uuid.UUID) -> None:
    """Raise LastOwner unless an active owner other than `user_id` exists.

    On PostgreSQL, FOR UPDATE locks the owners' rows, so two requests that each remove a
    different owner run one after the other, and the second reads the first's change.
    SQLite transactions already take the write lock at BEGIN (see app.db.engine).
    """
    owners = session.scalars(
        select(SiteRoleAssignment.user_id)
        .join(User, User.id == SiteRoleAssignment.user_id)
        .where(SiteRoleAssignment.role == OWNER_ROLE, User.status == "active")
        .order_by(SiteRoleAssignment.user_id)
        .with_for_update()
    ).all()
    if not any(owner_id != user_id for owner_id in owners):
        raise LastOwner(str(user_id))


def _count_rows_of(
    session: Session, model: type[ApiKey | OrganizationMember | UserSecret], user_id: uuid.UUID
) -> int:
    count = session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
    return count or 0
