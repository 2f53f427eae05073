"""HTTP views for users."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.api.auth import current_actor
from app.api.errors import APIError
from app.db.session import get_session
from app.users import store
from app.users.errors import UserNotFound
from app.users.models import User

blueprint = Blueprint("users", __name__, url_prefix="/api/v2/users")


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


@blueprint.get("/<string:user>")
def get_user(user: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    try:
        found = store.get_user(session, actor, user)
    except UserNotFound:
        raise APIError(404, "User not found.", f"No visible user matches {user!r}.") from None
    result = user_json(found, store.site_roles_of(session, found.id))
    session.commit()
    return result
