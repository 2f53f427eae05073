"""Rules for usernames and user references in URL paths."""

from __future__ import annotations

import re
import uuid

from app.users.errors import InvalidUsername

USERNAME_MAX_LENGTH = 64
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# "me" names the caller in URL paths; a UUID-shaped name would be read as an id.
RESERVED_USERNAMES = frozenset({"me"})


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
