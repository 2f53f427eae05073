"""The class of each column of each audited model, which decides its place in audit diffs.

tracked: old and new values are shown.
ignored: never in a diff (bookkeeping such as timestamps and versions).
secret:  the diff records only that it changed, never plaintext, ciphertext, length or hash.

Every column of every audited model must be classified here; a test fails otherwise, so
a new column cannot reach audit diffs unreviewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from sqlalchemy import inspect

from app.auth.models import ApiKey
from app.db.base import Base
from app.orgs.models import Organization, OrganizationMember
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment, User

FieldClass = Literal["tracked", "ignored", "secret"]
FIELD_CLASSES: tuple[str, ...] = get_args(FieldClass)

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


def field_class_problems(
    audited: Mapping[type[Any], Mapping[str, str]] = AUDITED_FIELDS,
) -> list[str]:
    """List every way `audited` fails to classify its models' columns, as sentences.

    Three problems are reported: a mapped column with no class, a class for a column
    the model does not have (a rename left behind), and a class other than tracked,
    ignored or secret. An empty list means every column is classified. Columns are
    named by their attribute keys, the keys `snapshot` uses.
    """
    problems: list[str] = []
    for model, classes in audited.items():
        columns = [attribute.key for attribute in inspect(model).column_attrs]
        for column in columns:
            if column not in classes:
                problems.append(f"{model.__name__}.{column} has no field class")
        for column, field_class in classes.items():
            if column not in columns:
                problems.append(f"{model.__name__}.{column} is classified but is no column")
            elif field_class not in FIELD_CLASSES:
                problems.append(
                    f"{model.__name__}.{column} has the unknown class {field_class!r}; "
                    f"use one of {', '.join(FIELD_CLASSES)}"
                )
    return problems
