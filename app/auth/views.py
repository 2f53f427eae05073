"""HTTP views for API tokens: `/api/v2/users/{user}/tokens`.

The token string appears once, in the body of the 201 that creates it. Every other
response carries metadata only, never the stored hash.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from app.api.auth import current_actor
from app.api.bodies import json_object_body, raise_invalid
from app.api.context import audit_context
from app.api.errors import APIError, Validation
from app.auth import store
from app.auth.models import ApiKey
from app.auth.store import TokenNotFound
from app.auth.tokens import DEFAULT_LIFETIME, MAX_LIFETIME
from app.authz import Forbidden
from app.db.session import get_session
from app.users.errors import UserNotFound

blueprint = Blueprint("tokens", __name__, url_prefix="/api/v2/users/<string:user>/tokens")

CREATE_FIELDS = frozenset({"lifetime_days"})
MIN_LIFETIME_DAYS = 1
MAX_LIFETIME_DAYS = MAX_LIFETIME.days


def token_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "scope": key.scope,
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat(),
        "last_used_at": None if key.last_used_at is None else key.last_used_at.isoformat(),
    }


@blueprint.post("")
def create_token(user: str) -> Response:
    actor = current_actor()
    session = get_session()
    body = json_object_body(CREATE_FIELDS)
    lifetime = _checked_lifetime(body)

    try:
        key, token = store.create_token(session, actor, audit_context(actor), user, lifetime)
    except UserNotFound:
        raise _user_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    session.commit()

    response = jsonify({"token": token, **token_json(key)})
    response.status_code = 201
    response.headers["Location"] = url_for(
        "tokens.get_token", user=str(key.user_id), token_id=key.id
    )
    return response


@blueprint.get("")
def list_tokens(user: str) -> list[dict[str, Any]]:
    actor = current_actor()
    session = get_session()
    try:
        keys = store.list_tokens(session, actor, user)
    except UserNotFound:
        raise _user_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    result = [token_json(key) for key in keys]
    session.commit()
    return result


@blueprint.get("/<string:token_id>")
def get_token(user: str, token_id: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    try:
        key = store.get_token(session, actor, user, token_id)
    except UserNotFound:
        raise _user_not_found() from None
    except TokenNotFound:
        raise _token_not_found() from None
    result = token_json(key)
    session.commit()
    return result


@blueprint.delete("/<string:token_id>")
def delete_token(user: str, token_id: str) -> tuple[str, int]:
    actor = current_actor()
    session = get_session()
    try:
        store.delete_token(session, actor, audit_context(actor), user, token_id)
    except UserNotFound:
        raise _user_not_found() from None
    except TokenNotFound:
        raise _token_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    session.commit()
    return "", 204


def _checked_lifetime(body: dict[str, Any]) -> dt.timedelta:
    if "lifetime_days" not in body:
        return DEFAULT_LIFETIME
    days = body["lifetime_days"]
    # bool is a subclass of int in Python, but `true` is not a number of days.
    is_integer = isinstance(days, int) and not isinstance(days, bool)
    if not is_integer or not MIN_LIFETIME_DAYS <= days <= MAX_LIFETIME_DAYS:
        raise_invalid(
            [
                Validation(
                    "lifetime_days",
                    f"must be an integer from {MIN_LIFETIME_DAYS} to {MAX_LIFETIME_DAYS}",
                )
            ]
        )
    return dt.timedelta(days=days)


def _user_not_found() -> APIError:
    return APIError(404, "User not found.", "No user that you may read matches the reference.")


def _token_not_found() -> APIError:
    return APIError(
        404, "Token not found.", "The user has no token with this id that you may read."
    )


def _forbidden(error: Forbidden) -> APIError:
    resource = error.resource.replace("_", " ")
    return APIError(
        403, "Forbidden.", f"Your roles do not allow {error.action!r} on this {resource}."
    )
