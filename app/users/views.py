"""HTTP views for users: `/api/v2/users`.

Lists are bare JSON arrays. A user the caller may not read is 404 on every route, and a
change the caller may not make to a user it can read is 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from app.api.auth import current_actor
from app.api.bodies import json_object_body, raise_invalid, string_field
from app.api.context import audit_context
from app.api.errors import APIError, Validation
from app.authz import Forbidden
from app.db.session import get_session
from app.users import store
from app.users.errors import InvalidUsername, LastOwner, UsernameTaken, UserNotFound
from app.users.models import SITE_ROLES, USER_STATUSES, User
from app.users.validation import check_username, email_problem

blueprint = Blueprint("users", __name__, url_prefix="/api/v2/users")

CREATE_FIELDS = frozenset({"username", "email", "status"})
CREATE_REQUIRED_FIELDS = frozenset({"username", "email"})
UPDATE_FIELDS = frozenset({"email", "status", "site_roles"})


def user_json(user: User, site_roles: list[str]) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "email": user.email,
        "status": user.status,
        "site_roles": site_roles,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


@blueprint.post("")
def create_user() -> Response:
    actor = current_actor()
    session = get_session()
    body = json_object_body(CREATE_FIELDS, CREATE_REQUIRED_FIELDS)

    validations: list[Validation] = []
    username = string_field(body, "username", validations)
    if username is not None:
        try:
            check_username(username)
        except InvalidUsername as error:
            validations.append(Validation("username", str(error)))
    email = _checked_email(body, validations)
    status = _checked_status(body, validations)
    # Both fields are required, so None here always comes with a validation.
    if validations or username is None or email is None:
        raise_invalid(validations)

    try:
        user = store.create_user(
            session,
            actor,
            audit_context(actor),
            username=username,
            email=email,
            status=status or "active",
        )
    except Forbidden as error:
        raise _forbidden(error) from None
    except UsernameTaken:
        raise APIError(
            409,
            "Username taken.",
            "Another user has this username, compared case-insensitively. Choose another.",
            validations=[Validation("username", "already taken")],
        ) from None
    session.commit()

    response = jsonify(user_json(user, []))
    response.status_code = 201
    response.headers["Location"] = url_for("users.get_user", user=str(user.id))
    return response


@blueprint.get("")
def list_users() -> list[dict[str, Any]]:
    actor = current_actor()
    session = get_session()
    users = store.list_users(session, actor)
    roles = store.site_roles_by_user(session, [user.id for user in users])
    result = [user_json(user, roles[user.id]) for user in users]
    session.commit()
    return result


@blueprint.get("/<string:user>")
def get_user(user: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    try:
        found = store.get_user(session, actor, user)
    except UserNotFound:
        raise _user_not_found() from None
    result = user_json(found, store.site_roles_of(session, found.id))
    session.commit()
    return result


@blueprint.patch("/<string:user>")
def update_user(user: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    body = json_object_body(UPDATE_FIELDS)
    if not body:
        raise APIError(
            400,
            "Invalid request body.",
            f"Send at least one of the fields {', '.join(sorted(UPDATE_FIELDS))}.",
        )

    validations: list[Validation] = []
    changes = store.UserChanges(
        email=_checked_email(body, validations),
        status=_checked_status(body, validations),
        site_roles=_checked_site_roles(body, validations),
    )
    if validations:
        raise_invalid(validations)

    try:
        updated = store.update_user(session, actor, audit_context(actor), user, changes)
    except UserNotFound:
        raise _user_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    except LastOwner:
        raise _last_owner() from None
    result = user_json(updated, store.site_roles_of(session, updated.id))
    session.commit()
    return result


@blueprint.delete("/<string:user>")
def delete_user(user: str) -> tuple[str, int]:
    actor = current_actor()
    session = get_session()
    try:
        store.delete_user(session, actor, audit_context(actor), user)
    except UserNotFound:
        raise _user_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    except LastOwner:
        raise _last_owner() from None
    session.commit()
    return "", 204


def _checked_email(body: dict[str, Any], validations: list[Validation]) -> str | None:
    email = string_field(body, "email", validations)
    if email is None:
        return None
    problem = email_problem(email)
    if problem is not None:
        validations.append(Validation("email", problem))
        return None
    return email


def _checked_status(body: dict[str, Any], validations: list[Validation]) -> str | None:
    status = string_field(body, "status", validations)
    if status is None:
        return None
    if status not in USER_STATUSES:
        validations.append(Validation("status", f"must be one of {', '.join(USER_STATUSES)}"))
        return None
    return status


def _checked_site_roles(
    body: dict[str, Any], validations: list[Validation]
) -> frozenset[str] | None:
    if "site_roles" not in body:
        return None
    roles = body["site_roles"]
    rule = f"must be an array of distinct site roles from {', '.join(SITE_ROLES)}"
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        validations.append(Validation("site_roles", rule))
        return None
    if any(role not in SITE_ROLES for role in roles) or len(set(roles)) != len(roles):
        validations.append(Validation("site_roles", rule))
        return None
    return frozenset(roles)


def _user_not_found() -> APIError:
    # The reference is not echoed: it is request data, and the caller has it already.
    return APIError(404, "User not found.", "No user that you may read matches the reference.")


def _forbidden(error: Forbidden) -> APIError:
    resource = error.resource.replace("_", " ")
    return APIError(
        403, "Forbidden.", f"Your roles do not allow {error.action!r} on this {resource}."
    )


def _last_owner() -> APIError:
    return APIError(
        409,
        "Last owner.",
        "The change would leave the site without an active owner. "
        "Grant the owner role to another active user first.",
    )
