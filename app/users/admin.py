"""Operator commands behind the CLI, run with direct database access.

These functions perform no policy check: whoever runs the CLI against the database
already holds every power the database grants. HTTP handlers must never call them;
they use the authorized data layer instead.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.tokens import insert_token
from app.db.base import utcnow
from app.orgs.errors import OrganizationNameTaken, OrganizationNotFound
from app.orgs.models import Organization, OrganizationMember
from app.users.errors import UsernameTaken, UserNotFound
from app.users.models import SiteRoleAssignment, User
from app.users.validation import check_username

BOOTSTRAP_USERNAME = "admin"


def create_user(session: Session, username: str, email: str = "", role: str | None = None) -> User:
    check_username(username)
    now = utcnow()
    user = User(username=username, email=email, status="active", created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UsernameTaken(username) from None
    if role is not None:
        session.add(SiteRoleAssignment(user_id=user.id, role=role, created_at=now))
        session.flush()
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.lower())
    ).one_or_none()
    if user is None:
        raise UserNotFound(username)
    return user


def create_token(session: Session, username: str, lifetime: dt.timedelta) -> str:
    user = user_by_name(session, username)
    _, token = insert_token(session, user.id, lifetime)
    return token


def create_organization(session: Session, name: str) -> Organization:
    now = utcnow()
    org = Organization(name=name, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(org)
    except IntegrityError:
        raise OrganizationNameTaken(name) from None
    return org


def add_member(session: Session, org_name: str, username: str, role: str) -> OrganizationMember:
    org = session.scalars(
        select(Organization).where(func.lower(Organization.name) == org_name.lower())
    ).one_or_none()
    if org is None:
        raise OrganizationNotFound(org_name)
    user = user_by_name(session, username)
    now = utcnow()
    member = session.get(OrganizationMember, (org.id, user.id))
    if member is None:
        member = OrganizationMember(
            organization_id=org.id, user_id=user.id, role=role, created_at=now, updated_at=now
        )
        session.add(member)
    else:
        member.role = role
        member.updated_at = now
    session.flush()
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
