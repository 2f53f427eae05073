"""Authentication at the HTTP edge: every API view gets its actor from here."""

from __future__ import annotations

from flask import g, request

from app.api.errors import APIError
from app.auth.errors import AuthenticationError
from app.auth.tokens import authenticate
from app.authz import Actor
from app.db.session import get_session


def current_actor() -> Actor:
    """Authenticate the request's bearer token once per request; raise a 401 APIError."""
    actor: Actor | None = g.get("actor")
    if actor is not None:
        return actor
    try:
        actor = authenticate(get_session(), request.headers.get("Authorization"))
    except AuthenticationError as error:
        raise APIError(401, str(error)) from None
    g.actor = actor
    return actor
