"""The field classes of audited models and the diffs built from them. No database needed."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import MetaData, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.audit.fields import AUDITED_FIELDS, FIELD_CLASSES, field_class_problems
from app.audit.models import AuditLog
from app.audit.recorder import RESOURCE_TYPES, _resource_type, audit_diff, snapshot
from app.auth.models import ApiKey
from app.crypto.models import DbcryptKey
from app.db.models import Base
from app.orgs.models import Organization, OrganizationMember
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment, User

# Models whose rows are never audited, with the reason.
UNAUDITED_MODELS = {
    # The audit log itself: auditing its rows would recurse.
    AuditLog,
    # Key bookkeeping of the operator's key commands, holding no user data.
    DbcryptKey,
}
CANARY = "canary-7f3a9c1e5b"


class ThrowawayBase(DeclarativeBase):
    """A declarative base on its own MetaData, so the model below touches no real table."""

    metadata = MetaData()


class Widget(ThrowawayBase):
    __tablename__ = "widgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    # Stands for a column added to a model without being classified.
    color: Mapped[str]


def secret_row(**changes: object) -> UserSecret:
    """A transient UserSecret (never added to a session) with every column set."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    values: dict[str, object] = {
        "id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
        "user_id": uuid.UUID("22222222-2222-4222-8222-222222222222"),
        "name": "db-password",
        "description": "staging database",
        "value": "v1:ciphertext-" + CANARY,
        "value_key_id": "digest-1",
        "env_name": "DB_PASSWORD",
        "file_path": "",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    values.update(changes)
    return UserSecret(**values)


def test_audited_fields_classify_every_column() -> None:
    assert field_class_problems() == []


def test_audited_fields_cover_expected_models() -> None:
    expected = {User, SiteRoleAssignment, Organization, OrganizationMember, ApiKey, UserSecret}

    assert set(AUDITED_FIELDS) == expected


def test_audited_fields_cover_every_other_model() -> None:
    models = {mapper.class_ for mapper in Base.registry.mappers}

    assert models - UNAUDITED_MODELS == set(AUDITED_FIELDS)


def test_audited_models_have_resource_type() -> None:
    types = {_resource_type(model) for model in AUDITED_FIELDS}

    assert types == set(RESOURCE_TYPES)


def test_guard_reports_unclassified_new_column() -> None:
    problems = field_class_problems({Widget: {"id": "tracked", "name": "tracked"}})

    assert problems == ["Widget.color has no field class"]


def test_guard_reports_class_without_column() -> None:
    classes = {"id": "tracked", "name": "tracked", "color": "tracked", "size": "tracked"}

    assert field_class_problems({Widget: classes}) == ["Widget.size is classified but is no column"]


def test_guard_reports_unknown_field_class() -> None:
    classes = {"id": "tracked", "name": "tracked", "color": "Secret"}

    problems = field_class_problems({Widget: classes})

    assert len(problems) == 1
    assert problems[0].startswith("Widget.color has the unknown class 'Secret'")


@pytest.mark.parametrize(
    ("model", "column"),
    [
        pytest.param(model, column, id=f"{model.__name__}.{column}")
        for model, classes in AUDITED_FIELDS.items()
        for column in classes
    ],
)
def test_guard_fails_without_each_class(model: type[Base], column: str) -> None:
    modified = {m: dict(classes) for m, classes in AUDITED_FIELDS.items()}
    del modified[model][column]

    assert field_class_problems(modified) == [f"{model.__name__}.{column} has no field class"]


def test_field_classes_are_the_three() -> None:
    assert FIELD_CLASSES == ("tracked", "ignored", "secret")


def test_snapshot_has_every_column() -> None:
    row = secret_row()

    assert set(snapshot(row)) == {attribute.key for attribute in inspect(UserSecret).column_attrs}


def test_audit_diff_create_shows_tracked_fields() -> None:
    diff = audit_diff(UserSecret, None, snapshot(secret_row()))

    assert diff == {
        "id": {"old": None, "new": "11111111-1111-4111-8111-111111111111"},
        "user_id": {"old": None, "new": "22222222-2222-4222-8222-222222222222"},
        "name": {"old": None, "new": "db-password"},
        "description": {"old": None, "new": "staging database"},
        "value": {"old": "", "new": "", "secret": True},
        "env_name": {"old": None, "new": "DB_PASSWORD"},
        "file_path": {"old": None, "new": ""},
    }


def test_audit_diff_delete_shows_old_values() -> None:
    diff = audit_diff(UserSecret, snapshot(secret_row()), None)

    assert diff["name"] == {"old": "db-password", "new": None}
    assert diff["value"] == {"old": "", "new": "", "secret": True}
    assert "version" not in diff


def test_audit_diff_update_only_changed_columns() -> None:
    old = snapshot(secret_row())
    new = snapshot(secret_row(description="production database", version=2))

    assert audit_diff(UserSecret, old, new) == {
        "description": {"old": "staging database", "new": "production database"}
    }


def test_audit_diff_secret_change_is_masked() -> None:
    old = snapshot(secret_row())
    new = snapshot(secret_row(value="v1:other-ciphertext", value_key_id="digest-2", version=2))

    assert audit_diff(UserSecret, old, new) == {"value": {"old": "", "new": "", "secret": True}}


def test_audit_diff_ignored_changes_are_empty() -> None:
    later = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    old = snapshot(secret_row())
    new = snapshot(secret_row(version=7, updated_at=later, value_key_id="digest-2"))

    assert audit_diff(UserSecret, old, new) == {}


def test_audit_diff_never_contains_secret_value() -> None:
    created = audit_diff(UserSecret, None, snapshot(secret_row()))
    changed = audit_diff(
        UserSecret, snapshot(secret_row()), snapshot(secret_row(value=CANARY + "-2"))
    )
    deleted = audit_diff(UserSecret, snapshot(secret_row()), None)

    for diff in (created, changed, deleted):
        assert CANARY not in json.dumps(diff)


def test_audit_diff_serializes_datetimes() -> None:
    expires = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)
    key = ApiKey(
        id="abcdefghij",
        hashed_secret=b"\x01" * 32,
        user_id=uuid.UUID("22222222-2222-4222-8222-222222222222"),
        scope="all",
        created_at=expires,
        expires_at=expires,
        last_used_at=None,
    )

    diff = audit_diff(ApiKey, None, snapshot(key))

    assert diff["expires_at"] == {"old": None, "new": "2026-05-01T08:30:00+00:00"}
    assert diff["hashed_secret"] == {"old": "", "new": "", "secret": True}
    assert "created_at" not in diff
    assert json.loads(json.dumps(diff)) == diff


def test_audit_diff_unknown_class_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    misspelled = dict(AUDITED_FIELDS[UserSecret], description="Tracked")
    monkeypatch.setitem(AUDITED_FIELDS, UserSecret, misspelled)

    diff = audit_diff(UserSecret, None, snapshot(secret_row()))

    assert diff["description"] == {"old": "", "new": "", "secret": True}
