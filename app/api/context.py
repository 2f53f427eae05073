"""Request-scoped values the data layer needs: the keyring and the audit context."""

from __future__ import annotations

from flask import current_app, g, request

from app.audit.recorder import AuditContext
from app.authz import Actor
from app.crypto.cipher import Keyring


def current_keyring() -> Keyring:
    keyring: Keyring = current_app.extensions["usersecrets.keyring"]
    return keyring


def audit_context(actor: Actor) -> AuditContext:
    """Describe the current request for the audit rows of the changes it makes."""
    return AuditContext(
        user_id=actor.user_id,
        api_key_id=actor.token_id,
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        request_id=g.get("request_id", ""),
    )
