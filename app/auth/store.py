"""The authorized data layer for API tokens (`api_key` in the policy).

Every route names the token's user first, so each function reads that user with a
`read` decision before it looks at tokens: a user the actor may not read is not found.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, record_change, snapshot
from app.auth.models import ApiKey
from app.auth.tokens import issue_token
from app.authz import Actor, Forbidden, Target, authorize, list_scope
from app.users.models import User
from app.users.store import get_user

# Token ids are 10 lowercase letters and digits (app.auth.tokens); anything else is
# not found without a query.
_TOKEN_ID_RE = re.compile(r"^[a-z0-9]{10}$")


class TokenNotFound(Exception):
    """No token with this id belongs to the user, or the actor may not read it."""


def api_key_target(user: User) -> Target:
    """Describe a token for the policy: its user owns it, and it is in no organization."""
    return Target("api_key", owner_id=user.id)


def create_token(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    user_reference: str,
    lifetime: dt.timedelta,
) -> tuple[ApiKey, str]:
    """Mint a token for the user; return its row and the token string, shown only once.

    Raise UserNotFound when the actor may not read the user, and Forbidden when it may
    not create a token for it. The policy allows `create` only on the actor's own tokens,
    because a token for another user would act as that user, secrets included.
    """
    user = get_user(session, actor, user_reference)
    authorize(actor, "create", api_key_target(user))

    return issue_token(session, audit, user.id, lifetime)


def list_tokens(session: Session, actor: Actor, user_reference: str) -> list[ApiKey]:
    """Return the user's tokens, newest first.

    Raise UserNotFound when the actor may not read the user, and Forbidden when it may
    read the user but none of its tokens. Two decisions: the user's `read` and the
    token list scope.
    """
    user = get_user(session, actor, user_reference)
    scope = list_scope(actor, "read", "api_key")
    # A token is in no organization, so its relation to the actor is `self` or `other`.
    visible = scope.own if user.id == actor.user_id else scope.other
    if not visible:
        raise Forbidden("read", "api_key")
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == user.id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
    )


def get_token(session: Session, actor: Actor, user_reference: str, token_id: str) -> ApiKey:
    """Return one token of the user; raise UserNotFound or TokenNotFound when hidden."""
    key, _ = _read_token(session, actor, user_reference, token_id)
    return key


def delete_token(
    session: Session, actor: Actor, audit: AuditContext, user_reference: str, token_id: str
) -> None:
    """Revoke one token of the user.

    Raise UserNotFound or TokenNotFound when the actor may not read it, and Forbidden
    when it may read but not delete it.
    """
    key, user = _read_token(session, actor, user_reference, token_id)
    authorize(actor, "delete", api_key_target(user))

    old = snapshot(key)
    session.delete(key)
    session.flush()
    record_change(
        session,
        audit,
        action="delete",
        model=ApiKey,
        resource_id=key.id,
        target=user.username,
        owner_id=user.id,
        old=old,
    )


def _read_token(
    session: Session, actor: Actor, user_reference: str, token_id: str
) -> tuple[ApiKey, User]:
    user = get_user(session, actor, user_reference)
    if not _TOKEN_ID_RE.match(token_id):
        raise TokenNotFound(token_id)
    key = session.scalars(
        select(ApiKey).where(ApiKey.id == token_id, ApiKey.user_id == user.id)
    ).one_or_none()
    if key is None:
        raise TokenNotFound(token_id)
    try:
        authorize(actor, "read", api_key_target(user))
    except Forbidden:
        raise TokenNotFound(token_id) from None
    return key, user
