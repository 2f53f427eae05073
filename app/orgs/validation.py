"""Rules for organization names and organization references in URL paths."""

from __future__ import annotations

import re

from app.orgs.errors import InvalidOrganizationName
from app.users.validation import parse_uuid

ORGANIZATION_NAME_MAX_LENGTH = 64
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def could_be_organization_name(text: str) -> bool:
    """Tell whether `text` has the shape of an organization name, before it reaches a query.

    PostgreSQL rejects a NUL character in a query parameter, so a path segment that no
    organization could have is turned away first.
    """
    return _NAME_RE.match(text) is not None


def check_organization_name(name: str) -> None:
    """Raise InvalidOrganizationName when `name` breaks a rule."""
    if not _NAME_RE.match(name):
        raise InvalidOrganizationName(
            f"must be 1-{ORGANIZATION_NAME_MAX_LENGTH} characters of letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    # URL paths accept a name or an id, so a UUID-shaped name would be read as an id.
    if parse_uuid(name) is not None:
        raise InvalidOrganizationName(
            "must not be shaped like a UUID, which would be read as an id"
        )
