"""Factories that write test data straight to the database, bypassing the API."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.auth.tokens import DEFAULT_LIFETIME, insert_token
from app.db.base import utcnow
from app.orgs.models import Organization, OrganizationMember
from app.users.models import SiteRoleAssignment, User


def make_user(
    session: Session,
    username: str | None = None,
    site_roles: Iterable[str] = (),
    status: str = "active",
    email: str = "",
) -> User:
    now = utcnow()
    user = User(
        username=username or f"user-{uuid.uuid4().hex[:8]}",
        email=email,
        status=status,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    for role in site_roles:
        session.add(SiteRoleAssignment(user_id=user.id, role=role, created_at=now))
    session.flush()
    return user


def make_token(session: Session, user: User, lifetime: dt.timedelta = DEFAULT_LIFETIME) -> str:
    _, token = insert_token(session, user.id, lifetime)
    return token


def make_org(session: Session, name: str | None = None) -> Organization:
    now = utcnow()
    org = Organization(name=name or f"org-{uuid.uuid4().hex[:8]}", created_at=now, updated_at=now)
    session.add(org)
    session.flush()
    return org


def add_member(
    session: Session, org: Organization, user: User, role: str = "org-member"
) -> OrganizationMember:
    now = utcnow()
    member = OrganizationMember(
        organization_id=org.id, user_id=user.id, role=role, created_at=now, updated_at=now
    )
    session.add(member)
    session.flush()
    return member


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
