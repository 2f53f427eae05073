"""API tokens: `<id>-<secret>`, of which only SHA-256(secret) is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, record_change, snapshot
from app.auth.errors import AuthenticationError
from app.auth.models import ApiKey
from app.authz.actor import Actor
from app.db.base import utcnow
from app.orgs.models import OrganizationMember
from app.users.models import SiteRoleAssignment, User

TOKEN_ID_LENGTH = 10
TOKEN_ID_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_LIFETIME = dt.timedelta(days=30)
MAX_LIFETIME = dt.timedelta(days=365)
# last_used_at is refreshed at most this often, so reads do not turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

_TOKEN_RE = re.compile(r"^(?P<id>[a-z0-9]{10})-(?P<secret>[A-Za-z0-9_-]{22,128})$")


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_token_parts() -> tuple[str, str]:
    """Return a fresh (id, secret) pair; the secret has 256 bits of entropy."""
    token_id = "".join(secrets.choice(TOKEN_ID_ALPHABET) for _ in range(TOKEN_ID_LENGTH))
    return token_id, secrets.token_urlsafe(32)


def insert_token(
    session: Session, user_id: uuid.UUID, lifetime: dt.timedelta
) -> tuple[ApiKey, str]:
    """Add a token row for `user_id` to the session; return it and the token string.

    Callers authorize first: this function does no access check of its own.
    """
    token_id, secret = new_token_parts()
    now = utcnow()
    key = ApiKey(
        id=token_id,
        hashed_secret=hash_secret(secret),
        user_id=user_id,
        scope="all",
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(key)
    session.flush()
    return key, f"{token_id}-{secret}"


def issue_token(
    session: Session, audit: AuditContext, user_id: uuid.UUID, lifetime: dt.timedelta
) -> tuple[ApiKey, str]:
    """Insert a token for `user_id` and its audit row; return the row and the token string.

    Callers authorize first: this function does no access check of its own. The audit
    row's target is the token id, the only name a token has.
    """
    key, token = insert_token(session, user_id, lifetime)
    record_change(
        session,
        audit,
        action="create",
        model=ApiKey,
        resource_id=key.id,
        target=key.id,
        owner_id=user_id,
        new=snapshot(key),
    )
    return key, token


def authenticate(session: Session, authorization: str | None) -> Actor:
    """Return the Actor for an `Authorization: Bearer` header, or raise AuthenticationError.

    Every failure after the header's shape is checked gives the same message, so a caller
    cannot tell an unknown token from a wrong secret, an expired token or a suspended user.
    """
    if not authorization:
        raise AuthenticationError("Missing Authorization header; send 'Bearer <token>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Invalid Authorization header; send 'Bearer <token>'.")
    match = _TOKEN_RE.match(token.strip())
    if match is None:
        raise AuthenticationError("Invalid or expired API token.")

    row = session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.id == match["id"])
    ).one_or_none()
    # Compare against a dummy hash when the id is unknown, so both paths do the same work.
    stored = row.ApiKey.hashed_secret if row else b"\0" * 32
    secret_matches = hmac.compare_digest(stored, hash_secret(match["secret"]))
    if row is None or not secret_matches:
        raise AuthenticationError("Invalid or expired API token.")

    key, user = row.ApiKey, row.User
    now = utcnow()
    if key.expires_at <= now or user.status != "active":
        raise AuthenticationError("Invalid or expired API token.")

    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return load_actor(session, user, token_id=key.id, scope=key.scope)


def load_actor(
    session: Session, user: User, token_id: str | None = None, scope: str = "all"
) -> Actor:
    """Read the user's site and organization roles into an Actor."""
    site_roles = set(
        session.scalars(
            select(SiteRoleAssignment.role).where(SiteRoleAssignment.user_id == user.id)
        )
    )
    if user.status == "active":
        site_roles.add("member")
    org_roles: dict[uuid.UUID, frozenset[str]] = {}
    for org_id, role in session.execute(
        select(OrganizationMember.organization_id, OrganizationMember.role).where(
            OrganizationMember.user_id == user.id
        )
    ):
        org_roles[org_id] = frozenset({"org-member", role})
    return Actor(
        user_id=user.id,
        username=user.username,
        site_roles=frozenset(site_roles),
        org_roles=org_roles,
        token_id=token_id,
        scope=scope,
    )
