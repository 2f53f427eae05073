from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.errors import AuthenticationError
from app.auth.models import ApiKey
from app.auth.tokens import authenticate, hash_secret
from tests.support.factories import add_member, make_org, make_token, make_user


def test_authenticate_valid_token_returns_actor(session: Session) -> None:
    user = make_user(session, "alice", site_roles=["auditor"])
    token = make_token(session, user)

    actor = authenticate(session, f"Bearer {token}")

    assert actor.user_id == user.id
    assert actor.site_roles == {"auditor", "member"}
    assert actor.token_id == token.split("-", 1)[0]


def test_authenticate_loads_org_roles(session: Session) -> None:
    user = make_user(session)
    admin_org, member_org = make_org(session), make_org(session)
    add_member(session, admin_org, user, role="org-admin")
    add_member(session, member_org, user)

    actor = authenticate(session, f"Bearer {make_token(session, user)}")

    assert actor.org_roles == {
        admin_org.id: {"org-member", "org-admin"},
        member_org.id: {"org-member"},
    }


def test_token_store_keeps_only_secret_hash(session: Session) -> None:
    user = make_user(session)
    token = make_token(session, user)
    token_id, secret = token.split("-", 1)

    key = session.scalars(select(ApiKey).where(ApiKey.id == token_id)).one()

    assert key.hashed_secret == hash_secret(secret)
    assert secret.encode() not in key.hashed_secret


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Basic abc", id="wrong-scheme"),
        pytest.param("Bearer ", id="no-token"),
        pytest.param("Bearer not-a-token", id="malformed"),
        pytest.param("Bearer abcdefghij-" + "x" * 43, id="unknown-id"),
        pytest.param("Bearer \x00\xff", id="binary"),
    ],
)
def test_authenticate_rejects_bad_header(session: Session, header: str | None) -> None:
    with pytest.raises(AuthenticationError):
        authenticate(session, header)


def test_authenticate_rejects_wrong_secret(session: Session) -> None:
    token = make_token(session, make_user(session))
    token_id = token.split("-", 1)[0]

    with pytest.raises(AuthenticationError, match="Invalid or expired"):
        authenticate(session, f"Bearer {token_id}-{'A' * 43}")


def test_authenticate_rejects_expired_token(session: Session) -> None:
    user = make_user(session)
    token = make_token(session, user, lifetime=dt.timedelta(seconds=-1))

    with pytest.raises(AuthenticationError, match="Invalid or expired"):
        authenticate(session, f"Bearer {token}")


def test_authenticate_rejects_suspended_user(session: Session) -> None:
    user = make_user(session, status="suspended")
    token = make_token(session, user)

    with pytest.raises(AuthenticationError, match="Invalid or expired"):
        authenticate(session, f"Bearer {token}")


def test_authenticate_records_last_use(session: Session) -> None:
    user = make_user(session)
    token = make_token(session, user)

    authenticate(session, f"Bearer {token}")
    key = session.get(ApiKey, token.split("-", 1)[0])
    assert key is not None
    session.refresh(key)

    assert key.last_used_at is not None
