"""Operator commands behind the CLI, run with direct database access.

These functions perform no policy check: a person who runs the CLI against the database
already has every power the database grants. HTTP handlers must never call them;
they use the authorized data layer instead. Every change is audited in the caller's
transaction, by default as made through the CLI (CLI_CONTEXT: no user, no token).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import CLI_CONTEXT, AuditContext, record_change, snapshot
from app.auth.tokens import issue_token
from app.db.base import utcnow
from app.orgs.errors import OrganizationNameTaken, OrganizationNotFound
from app.orgs.models import Organization, OrganizationMember
from app.users.errors import UsernameTaken, UserNotFound
from app.users.models import SiteRoleAssignment, User
from app.users.validation import check_username

BOOTSTRAP_USERNAME = "admin"


def create_user(
    session: Session,
    username: str,
    email: str = "",
    role: str | None = None,
    *,
    audit: AuditContext = CLI_CONTEXT,
) -> User:
    """Insert an active user, with the site role `role` if given, and one audit row.

    A granted role is recorded in the row's additional_fields as `site_roles`, the way
    the HTTP API records role changes.
    """
    check_username(username)
    now = utcnow()
    user = User(username=username, email=email, status="active", created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UsernameTaken(username) from None
    additional_fields = {}
    if role is not None:
        session.add(SiteRoleAssignment(user_id=user.id, role=role, created_at=now))
        session.flush()
        additional_fields["site_roles"] = {"old": [], "new": [role]}
    record_change(
        session,
        audit,
        action="create",
        model=User,
        resource_id=str(user.id),
        target=user.username,
        owner_id=user.id,
        new=snapshot(user),
        additional_fields=additional_fields,
    )
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.lower())
    ).one_or_none()
    if user is None:
        raise UserNotFound(username)
    return user


def create_token(
    session: Session,
    username: str,
    lifetime: dt.timedelta,
    *,
    audit: AuditContext = CLI_CONTEXT,
) -> str:
    """Insert an API token for `username`, audit it, and return the token string."""
    user = user_by_name(session, username)
    _, token = issue_token(session, audit, user.id, lifetime)
    return token


def create_organization(
    session: Session, name: str, *, audit: AuditContext = CLI_CONTEXT
) -> Organization:
    now = utcnow()
    org = Organization(name=name, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(org)
    except IntegrityError:
        raise OrganizationNameTaken(name) from None
    record_change(
        session,
        audit,
        action="create",
        model=Organization,
        resource_id=str(org.id),
        target=org.name,
        organization_id=org.id,
        new=snapshot(org),
    )
    return org


def add_member(
    session: Session,
    org_name: str,
    username: str,
    role: str,
    *,
    audit: AuditContext = CLI_CONTEXT,
) -> OrganizationMember:
    """Add `username` to the organization with `role`, or change an existing member's role.

    Writes one audit row for a new member or a changed role. A member who already has
    `role` is left untouched and no row is written, because nothing changed.
    """
    org = session.scalars(
        select(Organization).where(func.lower(Organization.name) == org_name.lower())
    ).one_or_none()
    if org is None:
        raise OrganizationNotFound(org_name)
    user = user_by_name(session, username)
    now = utcnow()
    member = session.get(OrganizationMember, (org.id, user.id))
    old = None
    if member is None:
        member = OrganizationMember(
            organization_id=org.id, user_id=user.id, role=role, created_at=now, updated_at=now
        )
        session.add(member)
    elif member.role == role:
        return member
    else:
        old = snapshot(member)
        member.role = role
        member.updated_at = now
    session.flush()
    record_change(
        session,
        audit,
        action="create" if old is None else "write",
        model=OrganizationMember,
        resource_id=str(user.id),
        target=user.username,
        owner_id=user.id,
        organization_id=org.id,
        old=old,
        new=snapshot(member),
    )
    return member


def bootstrap_admin(session: Session, lifetime: dt.timedelta) -> str | None:
    """Create the `admin` owner on an empty database; return its token, or None if not empty.

    Two processes starting together on one empty PostgreSQL database race here; the loser
    hits the unique username index and returns None.
    """
    if session.scalar(select(exists().where(User.id.is_not(None)))):
        return None
    try:
        create_user(session, BOOTSTRAP_USERNAME, role="owner")
    except UsernameTaken:
        return None
    return create_token(session, BOOTSTRAP_USERNAME, lifetime)
