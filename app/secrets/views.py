"""HTTP views for user secrets: `/api/v2/users/<user>/secrets`.

Responses carry metadata only, never a value. The list is a bare JSON array sorted by
name. A secret's version is its strong ETag, and PATCH and DELETE honour If-Match.

Status codes for access: a user the caller may not read is 404 on every route, and so
is a secret the caller may not read. Listing or creating the secrets of a user that the
caller may read but not manage is 403.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from app.api.auth import current_actor
from app.api.bodies import json_object_body
from app.api.context import audit_context, current_keyring
from app.api.errors import APIError, Validation
from app.authz import Actor, Forbidden
from app.db.session import get_session
from app.secrets import store
from app.secrets.errors import InvalidSecret, PreconditionFailed, SecretConflict, SecretNotFound
from app.secrets.store import SecretMetadata
from app.secrets.validation import CHANGEABLE_FIELDS, SECRET_FIELDS
from app.users import store as users_store
from app.users.errors import UserNotFound
from app.users.models import User

blueprint = Blueprint("user_secrets", __name__, url_prefix="/api/v2/users/<string:user>/secrets")

# If-Match contains one strong entity tag with a version, or `*` for any version.
_IF_MATCH_RE = re.compile(r'"(?P<version>[0-9]{1,10})"')
# user_secrets.version is a 32-bit integer column, so no larger version can exist.
_MAX_VERSION = 2**31 - 1


def secret_json(secret: SecretMetadata) -> dict[str, Any]:
    """Render a secret's metadata, the only representation of a secret the API returns."""
    return {
        "id": str(secret.id),
        "name": secret.name,
        "description": secret.description,
        "env_name": secret.env_name,
        "file_path": secret.file_path,
        "version": secret.version,
        "created_at": secret.created_at.isoformat(),
        "updated_at": secret.updated_at.isoformat(),
    }


@blueprint.get("")
def list_secrets(user: str) -> Response:
    actor = current_actor()
    session = get_session()
    owner = _visible_user(session, actor, user)
    try:
        secrets = store.list_secret_metadata(session, actor, owner.id)
    except Forbidden:
        raise _collection_forbidden() from None
    session.commit()
    return jsonify([secret_json(secret) for secret in secrets])


@blueprint.post("")
def create_secret(user: str) -> Response:
    actor = current_actor()
    session = get_session()
    owner = _visible_user(session, actor, user)
    # Required fields are checked with the other rules, so one 400 lists every problem.
    body = json_object_body(frozenset(SECRET_FIELDS))
    try:
        secret = store.create_secret(
            session, actor, audit_context(actor), current_keyring(), owner.id, body
        )
    except Forbidden:
        raise _collection_forbidden() from None
    except InvalidSecret as error:
        raise _invalid(error) from None
    except SecretConflict as error:
        raise _conflict(error) from None
    session.commit()

    response = jsonify(secret_json(secret))
    response.status_code = 201
    response.headers["Location"] = f"/api/v2/users/{owner.id}/secrets/{quote(secret.name, safe='')}"
    response.set_etag(str(secret.version))
    return response


@blueprint.get("/<string:name>")
def get_secret(user: str, name: str) -> Response:
    actor = current_actor()
    session = get_session()
    owner = _visible_user(session, actor, user)
    try:
        secret = store.get_secret(session, actor, owner.id, name)
    except (Forbidden, SecretNotFound):
        raise _secret_not_found() from None
    session.commit()

    response = jsonify(secret_json(secret))
    response.set_etag(str(secret.version))
    return response


@blueprint.patch("/<string:name>")
def update_secret(user: str, name: str) -> Response:
    actor = current_actor()
    session = get_session()
    owner = _visible_user(session, actor, user)
    expected_version = _if_match_version()
    body = json_object_body(frozenset(CHANGEABLE_FIELDS))
    try:
        secret = store.update_secret(
            session,
            actor,
            audit_context(actor),
            current_keyring(),
            owner.id,
            name,
            body,
            expected_version,
        )
    except (Forbidden, SecretNotFound):
        raise _secret_not_found() from None
    except InvalidSecret as error:
        raise _invalid(error) from None
    except SecretConflict as error:
        raise _conflict(error) from None
    except PreconditionFailed:
        raise _precondition_failed() from None
    session.commit()

    response = jsonify(secret_json(secret))
    response.set_etag(str(secret.version))
    return response


@blueprint.delete("/<string:name>")
def delete_secret(user: str, name: str) -> Response:
    actor = current_actor()
    session = get_session()
    owner = _visible_user(session, actor, user)
    expected_version = _if_match_version()
    try:
        store.delete_secret(session, actor, audit_context(actor), owner.id, name, expected_version)
    except (Forbidden, SecretNotFound):
        raise _secret_not_found() from None
    except PreconditionFailed:
        raise _precondition_failed() from None
    session.commit()
    return Response(status=204)


def _visible_user(session: Session, actor: Actor, reference: str) -> User:
    try:
        return users_store.get_user(session, actor, reference)
    except UserNotFound:
        raise APIError(
            404, "User not found.", "No user that you may read matches the user in the URL."
        ) from None


def _if_match_version() -> int | None:
    """Return the version that If-Match requires, or None when any version will do.

    Accepts `*` or one strong entity tag as the ETag header gives it, such as `"3"`.
    Weak tags and lists of tags are rejected as malformed.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _IF_MATCH_RE.fullmatch(header.strip())
    if match is None or int(match["version"]) > _MAX_VERSION:
        raise APIError(
            400,
            "Invalid If-Match header.",
            'Send the ETag of the secret, such as If-Match: "3", or If-Match: * for any version.',
        )
    return int(match["version"])


def _collection_forbidden() -> APIError:
    return APIError(
        403,
        "Forbidden.",
        "Only the user can list or create their own secrets. No role grants access to "
        "another user's secrets.",
    )


def _secret_not_found() -> APIError:
    return APIError(
        404,
        "Secret not found.",
        "The user has no secret with this name, or you may not read it.",
    )


def _invalid(error: InvalidSecret) -> APIError:
    if not error.violations:
        return APIError(400, "Invalid request body.", error.detail)
    return APIError(
        400,
        "Invalid request body.",
        "One or more fields are invalid; see validations.",
        validations=[Validation(violation.field, violation.rule) for violation in error.violations],
    )


def _conflict(error: SecretConflict) -> APIError:
    return APIError(
        409,
        "Secret conflict.",
        f"Another secret of this user already has this {error.field}. Choose another one.",
        validations=[Validation(error.field, "already used by another secret of this user")],
    )


def _precondition_failed() -> APIError:
    return APIError(
        412,
        "Precondition failed.",
        "The secret is no longer at the expected version. Get it again for the current version.",
    )
