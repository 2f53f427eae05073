"""How each column of each audited model appears in audit diffs.

tracked: old and new values are shown.
ignored: never in a diff (bookkeeping such as timestamps and versions).
secret:  the diff records only that it changed, never plaintext, ciphertext, length or hash.

Every column of every audited model must be classified here; a test fails otherwise, so
a new column cannot reach audit diffs unreviewed.
"""

from __future__ import annotations

from typing import Literal

from app.auth.models import ApiKey
from app.db.base import Base
from app.orgs.models import Organization, OrganizationMember
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment, User

FieldClass = Literal["tracked", "ignored", "secret"]

AUDITED_FIELDS: dict[type[Base], dict[str, FieldClass]] = {
    User: {
        "id": "tracked",
        "username": "tracked",
        "email": "tracked",
        "status": "tracked",
        "created_at": "ignored",
        "updated_at": "ignored",
    },
    SiteRoleAssignment: {
        "user_id": "tracked",
        "role": "tracked",
        "created_at": "ignored",
    },
    Organization: {
        "id": "tracked",
        "name": "tracked",
        "created_at": "ignored",
        "updated_at": "ignored",
    },
    OrganizationMember: {
        "organization_id": "tracked",
        "user_id": "tracked",
        "role": "tracked",
        "created_at": "ignored",
        "updated_at": "ignored",
    },
    ApiKey: {
        "id": "tracked",
        "hashed_secret": "secret",
        "user_id": "tracked",
        "scope": "tracked",
        "created_at": "ignored",
        "expires_at": "tracked",
        "last_used_at": "ignored",
    },
    UserSecret: {
        "id": "tracked",
        "user_id": "tracked",
        "name": "tracked",
        "description": "tracked",
        "value": "secret",
        "value_key_id": "ignored",
        "env_name": "tracked",
        "file_path": "tracked",
        "version": "ignored",
        "created_at": "ignored",
        "updated_at": "ignored",
    },
}
