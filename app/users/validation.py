"""Rules for usernames, user fields and user references in URL paths."""

from __future__ import annotations

import re
import uuid

from app.users.errors import InvalidUsername

USERNAME_MAX_LENGTH = 64
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# "me" names the caller in URL paths; a UUID-shaped name would be read as an id.
RESERVED_USERNAMES = frozenset({"me"})

# The column is String(320): 64 characters of local part, "@", 255 of domain (RFC 5321).
EMAIL_MAX_LENGTH = 320
EMAIL_LOCAL_PART_MAX_LENGTH = 64


def parse_uuid(text: str) -> uuid.UUID | None:
    """Return the UUID that `text` spells, or None when it is not UUID-shaped."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def could_be_username(text: str) -> bool:
    """Tell whether `text` has the shape of a username, before it reaches a query.

    PostgreSQL rejects a NUL character in a query parameter, so a path segment that no
    user could have must be turned away first.
    """
    return _USERNAME_RE.match(text) is not None


def check_username(username: str) -> None:
    """Raise InvalidUsername when `username` breaks a rule."""
    if not _USERNAME_RE.match(username):
        raise InvalidUsername(
            "must be 1-64 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if username.lower() in RESERVED_USERNAMES:
        raise InvalidUsername("'me' is reserved for the calling user")
    if parse_uuid(username) is not None:
        raise InvalidUsername("must not be shaped like a UUID, which would be read as an id")


def email_problem(email: str) -> str | None:
    """Return the rule that `email` breaks, or None when it is an acceptable address.

    The check is structural only (one '@', non-empty parts, no spaces or control
    characters), because only delivery proves that an address works.
    """
    if len(email) > EMAIL_MAX_LENGTH:
        return f"must be at most {EMAIL_MAX_LENGTH} characters"
    # isprintable() is False for control characters, NUL (which PostgreSQL rejects) and
    # lone surrogates (which cannot be encoded as UTF-8).
    if not email.isprintable() or any(character.isspace() for character in email):
        return "must not contain spaces or control characters"
    local_part, separator, domain = email.rpartition("@")
    if not separator or not local_part or not domain or "@" in local_part:
        return "must be an address of the form name@domain"
    if len(local_part) > EMAIL_LOCAL_PART_MAX_LENGTH:
        return f"the part before '@' must be at most {EMAIL_LOCAL_PART_MAX_LENGTH} characters"
    return None
